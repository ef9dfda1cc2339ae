"""Scenario tables beyond the workload classes: measured capacities (``[[measured]]``),
request-size histograms (``[buckets]``), and what sweeps and Monte Carlo vary (``[sweep]``,
``[uncertainty]``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from planner.scenario.types import MAX_CLASSES, MAX_QUERIES_PER_DAY, Name, SlugRef, Strict
from planner.units import SECONDS_PER_DAY


class Measured(Strict):
    """A measured capacity of one replica for a class at the class's SLO — its P99 targets included: the
    planner takes the figure as it is and does not cap it with the queueing model's ``ρ_max``.

    Give the most ``requests_per_s`` it sustains, or the ``output_tokens_per_s`` (divided by the
    class's output tokens), or ``meets_slo = false``: that configuration cannot meet the class's
    targets at any load, so it is excluded.  A zero capacity is refused as a typo rather than read
    as "cannot serve" (Mélange's ZeroDivisionError trap), which ``meets_slo = false`` says instead.
    """

    hardware: SlugRef
    workload: Name
    requests_per_s: Annotated[float | None, Field(gt=0, le=1e7)] = None
    output_tokens_per_s: Annotated[float | None, Field(gt=0, le=1e10)] = None
    meets_slo: Annotated[bool, Field(description="false: this configuration cannot meet the class's SLO")] = True
    precision: SlugRef = "bf16"
    tp: Annotated[int, Field(ge=1, le=1024)] = 1
    source: Annotated[str, Field(min_length=1, max_length=1000)]

    @model_validator(mode="after")
    def _one_figure(self) -> Measured:
        given = [f for f in ("requests_per_s", "output_tokens_per_s") if getattr(self, f) is not None]
        if self.meets_slo and len(given) != 1:
            raise ValueError("give exactly one of requests_per_s or output_tokens_per_s (or meets_slo = false)")
        if not self.meets_slo and given:
            raise ValueError(f"meets_slo = false takes no capacity, got {given[0]}")
        return self

    def capacity_rps(self, output_tokens: int) -> float:
        """Requests/s per replica for a class of ``output_tokens`` (0.0 when it cannot meet the SLO)."""
        if self.requests_per_s is not None:
            return self.requests_per_s
        if self.output_tokens_per_s is not None:
            return self.output_tokens_per_s / output_tokens
        return 0.0


class Buckets(Strict):
    """A workload as a histogram over input x output token ranges (shares of one total rate).

    ``input_edges = [1, 25, 100]`` makes the ranges 1-25 and 26-100; shares are rows of input
    ranges by columns of output ranges and are not normalised; a zero share makes no class.
    """

    input_edges: Annotated[list[Annotated[int, Field(ge=1, le=10_000_000)]], Field(min_length=2, max_length=65)]
    output_edges: Annotated[list[Annotated[int, Field(ge=1, le=1_000_000)]], Field(min_length=2, max_length=65)]
    shares: list[list[Annotated[float, Field(ge=0, le=1e6)]]]
    total_rate_rps: Annotated[float, Field(gt=0, le=1e8)]
    ttft_ms: Annotated[float, Field(ge=1, le=3_600_000)]
    tpot_ms: Annotated[float, Field(ge=0.1, le=60_000)]

    @model_validator(mode="after")
    def _shape(self) -> Buckets:
        for label, edges in (("input_edges", self.input_edges), ("output_edges", self.output_edges)):
            if any(b <= a for a, b in zip(edges, edges[1:])):
                raise ValueError(f"{label} must increase strictly")
        rows, cols = len(self.input_edges) - 1, len(self.output_edges) - 1
        if len(self.shares) != rows or any(len(r) != cols for r in self.shares):
            raise ValueError(f"shares must be {rows} rows of {cols} values (input ranges x output ranges)")
        positive = sum(v > 0 for r in self.shares for v in r)
        if not positive:  # it once read "workload: List should have ..."
            raise ValueError("shares: no bucket has a positive share, so there is no traffic to plan")
        # the classes' own bounds, checked here so that the error names [buckets], not workload.0
        if positive > MAX_CLASSES:
            raise ValueError(f"shares: {positive} buckets have a positive share, each a class; "
                             f"a scenario holds at most {MAX_CLASSES}")
        most = max(v for r in self.shares for v in r) * self.total_rate_rps * SECONDS_PER_DAY
        if most > MAX_QUERIES_PER_DAY:
            raise ValueError(f"the largest share x total_rate_rps is {most:.4g} queries a day; "
                             f"a class holds at most {MAX_QUERIES_PER_DAY:g}")
        return self

    def classes(self) -> list[dict[str, object]]:
        """One workload class per bucket with a positive share (tokens at the range's upper bound)."""
        out: list[dict[str, object]] = []
        for i, (ilo, ihi) in enumerate(_ranges(self.input_edges)):
            for o, (olo, ohi) in enumerate(_ranges(self.output_edges)):
                share = self.shares[i][o]
                if share > 0:
                    out.append({"name": f"in{ilo}-{ihi}-out{olo}-{ohi}", "input_tokens": ihi, "output_tokens": ohi,
                                "queries_per_day": share * self.total_rate_rps * SECONDS_PER_DAY,
                                "ttft_ms": self.ttft_ms, "tpot_ms": self.tpot_ms})
        return out


def _ranges(edges: list[int]) -> list[tuple[int, int]]:
    return [(edges[0] if k == 0 else edges[k] + 1, edges[k + 1]) for k in range(len(edges) - 1)]


class SweepTable(Strict):
    """A sweep kept in the scenario file (``whatif sweep`` uses it when no --vary is given)."""

    vary: dict[Annotated[str, Field(min_length=1, max_length=256)], Annotated[str, Field(min_length=1, max_length=4096)]] = {}
    zip: bool = False


#: Every distribution parameter a row may give (each distribution takes some of them).
PARAMETERS = ("low", "high", "mode", "median", "sigma", "mean", "sd")


class Distribution(Strict):
    """An input's uncertainty for Monte Carlo: uniform(low, high), triangular(low, mode, high),
    lognormal(median, sigma), normal(mean, sd) truncated to [low, high]."""

    dist: Literal["uniform", "triangular", "lognormal", "normal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    median: Annotated[float | None, Field(gt=0)] = None
    sigma: Annotated[float | None, Field(gt=0, le=10)] = None
    mean: float | None = None
    sd: Annotated[float | None, Field(gt=0)] = None

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        need = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "lognormal": ("median", "sigma"),
                "normal": ("mean", "sd", "low", "high")}[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {', '.join(missing)}")
        ignored = [n for n in PARAMETERS if n not in need and getattr(self, n) is not None]
        if ignored:  # e.g. low/high on a lognormal would read as bounds it does not have
            raise ValueError(f"{self.dist} takes {', '.join(need)}, not {', '.join(ignored)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.dist == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError("mode must lie between low and high")
        if self.dist == "normal" and not (self.low <= self.mean <= self.high):  # type: ignore[operator]
            raise ValueError("mean must lie between low and high")
        return self

    def param(self, name: str) -> float:
        """A parameter the validator has already required for this distribution."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"{self.dist} has no {name}")
        return float(value)
