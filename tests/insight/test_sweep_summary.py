"""Sweep rows and the Monte Carlo summary over a mix of outcomes, checked by hand.

Every sweep in ``test_sweep.py`` is all-optimal, all-stopped or all-served, so a summary that mixed
up its counts (failed vs unserved, a stopped nominal re-solve, the stability denominator) or a row
that took the wrong plan's bound, summed the fleet or swapped its cost columns went unnoticed.  Here
the plans are stand-ins (``plan_scenario`` is replaced) and the rows are built by hand: no solver runs.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.errors import PlannerError
from planner.insight import sweeps
from planner.insight.sweeps import _fleet_summary, _monte_carlo_summary, run_batch
from planner.optimize import planning

TECHNIQUES = {"quantization": ["none", "fp8"], "kv_quantization": ["none"], "distillation": ["none"],
              "caching": ["none"], "moe": ["none"]}
#: The nominal plan's variant, as ``_nominal_techniques`` hands it to the workers.
NOMINAL = {"quantization": ["fp8"], "kv_quantization": ["none"], "distillation": ["none"],
           "caching": ["none"], "moe": ["none"]}


def tiny() -> planner.Scenario:
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "summary", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "chat", "queries_per_day": 5e5, "input_tokens": 500, "output_tokens": 150,
                      "ttft_ms": 1500, "tpot_ms": 60}],
        "horizon": {"months": 6, "period_months": 3, "growth_per_year": 0.5},
        "market": {"hardware": ["l40s", "h100-sxm"], "modes": ["on-demand", "reserved-1y"]},
        "techniques": TECHNIQUES,
    })


def fleet(hardware: str, mode: str, *gpus: int) -> list[SimpleNamespace]:
    """One fleet entry per period for ``hardware``/``mode``."""
    return [SimpleNamespace(hardware=hardware, mode=mode, period=p, gpus_in_service=g) for p, g in enumerate(gpus)]


def plan(status: str = "optimal", *, one_time: float | None = 1_000.0, recurring: float | None = 9_000.0,
         gap: float | None = None, variant: tuple[str, ...] = ("quantization:fp8",),
         entries: list[SimpleNamespace] | None = None, message: str = "") -> SimpleNamespace:
    """A Plan-like stand-in with what ``run_batch`` and ``open_bound`` read."""
    cost = None if one_time is None or recurring is None else one_time + recurring
    return SimpleNamespace(status=status, lifetime_cost_usd=cost, one_time_cost_usd=one_time,
                           recurring_cost_usd=recurring, variant_names=list(variant),
                           fleet=entries if entries is not None else fleet("l40s", "on-demand", 2, 3),
                           timings={"solve_s": 0.25}, message=message,
                           solver=None if gap is None else SimpleNamespace(gap=gap))


def stub_planning(monkeypatch: pytest.MonkeyPatch, outcomes: dict[float, tuple[Any, Any]]) -> list[str]:
    """``plan_scenario`` answers by ``market.price_scale``: ``(sample plan, nominal re-solve)``, where
    either may be an exception to raise.  Returns the log of calls ("sample"/"nominal")."""
    calls: list[str] = []

    def fake_plan_scenario(scenario: planner.Scenario, catalog: Any, candidates: Any = None) -> Any:
        nominal = scenario.techniques == NOMINAL
        calls.append("nominal" if nominal else "sample")
        answer = outcomes[scenario.market.price_scale][1 if nominal else 0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(planning, "plan_scenario", fake_plan_scenario)
    monkeypatch.setattr(sweeps, "_catalog", lambda overlays: None)
    monkeypatch.setattr(sweeps, "_candidates", lambda scenario, overlays: None)
    return calls


def rows_for(monkeypatch: pytest.MonkeyPatch, outcomes: dict[float, tuple[Any, Any]],
             nominal: dict[str, list[str]] | None = NOMINAL, calls: list[str] | None = None) -> list[dict[str, Any]]:
    log = stub_planning(monkeypatch, outcomes)
    points = [(i, {"market.price_scale": scale}) for i, scale in enumerate(outcomes)]
    rows = run_batch(tiny().model_dump_json(), (), points, 7, nominal, None)
    if calls is not None:
        calls.extend(log)
    return rows


# ----------------------------------------------------------------------------------- rows

def test_the_fleet_summary_is_each_hardware_and_modes_peak_over_the_periods() -> None:
    """GPUs in service are a level per period, not a flow: the summary is the busiest period's count."""
    entries = [*fleet("l40s", "on-demand", 3, 5, 2), *fleet("h100-sxm", "reserved-1y", 4, 4, 1),
               *fleet("l40s", "reserved-1y", 0, 1, 6)]
    assert _fleet_summary(SimpleNamespace(fleet=entries)) == \
        "h100-sxm reserved-1y x4; l40s on-demand x5; l40s reserved-1y x6"
    assert _fleet_summary(SimpleNamespace(fleet=[])) == ""


def test_a_rows_fleet_and_costs_come_from_its_plan_each_in_its_own_column(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [*fleet("l40s", "on-demand", 3, 5, 2), *fleet("h100-sxm", "spot", 1, 2)]
    (row,) = rows_for(monkeypatch, {1.0: (plan(one_time=1_500.0, recurring=8_000.0, entries=entries), plan())},
                      nominal=None)
    assert row["status"] == "optimal" and row["seed"] == 7 and row["inputs"] == {"market.price_scale": 1.0}
    assert row["one_time_cost_usd"] == 1_500.0
    assert row["recurring_cost_usd"] == 8_000.0
    assert row["lifetime_cost_usd"] == 9_500.0
    assert row["fleet"] == "h100-sxm spot x2; l40s on-demand x5"
    assert row["variant"] == "quantization:fp8" and row["bound_usd"] is None and row["error"] is None
    assert "nominal_variant_cost_usd" not in row  # a grid sweep has no nominal re-solve


def test_the_nominal_bound_is_the_nominal_re_solves_not_the_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sample proven but its nominal re-solve stopped at a limit, and the other way round: each bound
    belongs to its own plan."""
    calls: list[str] = []
    rows = rows_for(monkeypatch, {
        1.0: (plan("optimal", one_time=0.0, recurring=10_000.0),
              plan("feasible", one_time=0.0, recurring=12_000.0, gap=0.25)),
        1.1: (plan("feasible", one_time=0.0, recurring=20_000.0, gap=0.1),
              plan("optimal", one_time=0.0, recurring=22_000.0)),
    }, calls=calls)
    assert calls == ["sample", "nominal"] * 2  # each sample re-solved with the nominal techniques
    assert rows[0]["bound_usd"] is None
    assert rows[0]["nominal_variant_cost_usd"] == 12_000.0
    assert rows[0]["nominal_variant_bound_usd"] == pytest.approx(9_000.0)  # 12 000 × (1 − 0.25)
    assert rows[1]["bound_usd"] == pytest.approx(18_000.0)  # 20 000 × (1 − 0.1)
    assert rows[1]["nominal_variant_cost_usd"] == 22_000.0
    assert rows[1]["nominal_variant_bound_usd"] is None


# ----------------------------------------------------------------------------------- summary

def row(status: str, variant: str, *, nominal: float | None, nominal_bound: float | None = None,
        bound: float | None = None) -> dict[str, Any]:
    cost = None if status == "infeasible" else 1.0
    return {"index": 0, "seed": 0, "inputs": {}, "status": status, "lifetime_cost_usd": cost, "bound_usd": bound,
            "variant": variant, "nominal_variant_cost_usd": nominal, "nominal_variant_bound_usd": nominal_bound}


#: 8 samples: 5 priced (one stopped in its own plan, one only in its nominal re-solve), 2 the nominal
#: variant cannot serve (one of them infeasible in its own plan too), 1 failed.
MIXED = [
    row("optimal", "quantization:fp8", nominal=100.0),
    row("optimal", "quantization:fp8", nominal=200.0),
    row("optimal", "", nominal=300.0),  # the baseline variant wins this sample
    row("infeasible", "", nominal=None),  # nothing serves it
    {"index": 4, "seed": 0, "inputs": {}, "status": "error", "error": "RuntimeError: boom"},
    row("optimal", "quantization:fp8", nominal=400.0, nominal_bound=350.0),  # nominal re-solve stopped
    row("optimal", "caching:prefix", nominal=None),  # served, but not by the nominal variant
    row("feasible", "caching:prefix", nominal=500.0, bound=450.0),  # the sample's own plan stopped
]


def test_a_mixed_monte_carlo_summary_counts_each_outcome_once() -> None:
    mc = _monte_carlo_summary(MIXED, NOMINAL)
    assert mc.samples == 8
    assert mc.failed == 1  # the error only: the infeasible sample did not fail
    assert mc.nominal_variant_unserved == 2  # 8 − 1 failed − 5 priced: a failed sample is not also unserved
    assert mc.unproven == 2  # the stopped sample and the sample whose nominal re-solve stopped
    # percentiles over the 5 priced samples; the lower ones take each stopped nominal re-solve's bound
    assert mc.nominal_variant_cost_percentiles_usd == pytest.approx({"p10": 140.0, "p50": 300.0, "p90": 460.0})
    assert mc.nominal_variant_cost_percentiles_lower_usd == pytest.approx({"p10": 140.0, "p50": 300.0,
                                                                          "p90": 440.0})


def test_decision_stability_is_a_share_of_all_samples() -> None:
    """Each variant's share is of every sample (failed and infeasible ones included, under their status),
    so the shares sum to 1."""
    mc = _monte_carlo_summary(MIXED, NOMINAL)
    # the sample the baseline wins (no variant name) counts under its status, "optimal"
    assert mc.decision_stability == pytest.approx({"quantization:fp8": 3 / 8, "caching:prefix": 2 / 8,
                                                   "optimal": 1 / 8, "infeasible": 1 / 8, "error": 1 / 8})
    assert sum(mc.decision_stability.values()) == pytest.approx(1.0)
    assert next(iter(mc.decision_stability)) == "quantization:fp8"  # most common first


def test_the_nominal_variants_label_is_the_nominal_plans_variant() -> None:
    """The label names the nominal techniques (their non-"none" options), whatever the samples chose."""
    mostly_prefix = [row("optimal", "caching:prefix", nominal=1.0)] * 3 + [row("optimal", "", nominal=1.0)]
    assert _monte_carlo_summary(mostly_prefix, NOMINAL).nominal_variant == "quantization:fp8"
    two = {**NOMINAL, "kv_quantization": ["fp8"]}
    assert _monte_carlo_summary(mostly_prefix, two).nominal_variant == "quantization:fp8 + kv_quantization:fp8"
    all_none = {t: ["none"] for t in NOMINAL}
    assert _monte_carlo_summary(mostly_prefix, all_none).nominal_variant == "baseline"
    assert _monte_carlo_summary(mostly_prefix, None).nominal_variant == "baseline"


def test_rows_resumed_from_a_csv_with_empty_cells_count_like_none() -> None:
    """A CSV gives empty strings for missing values: not a bound, not a nominal cost."""
    csv_like = [{**r, **{k: "" for k, v in r.items() if v is None}} for r in MIXED]
    mc = _monte_carlo_summary(csv_like, NOMINAL)
    assert (mc.samples, mc.failed, mc.nominal_variant_unserved, mc.unproven) == (8, 1, 2, 2)


def test_a_mixed_batch_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_batch over a mixed set (a planner error, a crash, an infeasible sample, a stopped nominal
    re-solve), then the summary of its rows."""
    fp8 = ("quantization:fp8",)
    rows = rows_for(monkeypatch, {
        1.0: (plan(recurring=1_000.0, one_time=0.0, variant=fp8), plan(recurring=1_000.0, one_time=0.0)),
        1.1: (plan(recurring=2_000.0, one_time=0.0, variant=fp8), plan(recurring=2_000.0, one_time=0.0)),
        1.2: (plan(recurring=3_000.0, one_time=0.0, variant=()), plan(recurring=3_500.0, one_time=0.0)),
        1.3: (plan("infeasible", one_time=None, recurring=None, variant=(), entries=[], message="no hardware"),
              plan("infeasible", one_time=None, recurring=None, entries=[], message="no hardware")),
        1.4: (RuntimeError("boom"), plan()),
        1.5: (plan(recurring=4_000.0, one_time=0.0, variant=fp8),
              plan("feasible", recurring=4_000.0, one_time=0.0, gap=0.5)),
        1.6: (PlannerError("bad", "x"), plan()),
    })
    assert [r["status"] for r in rows] == ["optimal", "optimal", "optimal", "infeasible", "error", "optimal", "error"]
    assert rows[3]["error"] == "no hardware" and rows[3]["nominal_variant_cost_usd"] is None
    assert rows[4]["error"] == "RuntimeError: boom" and rows[6]["error"] == "x: bad"
    assert rows[5]["bound_usd"] is None and rows[5]["nominal_variant_bound_usd"] == pytest.approx(2_000.0)
    mc = _monte_carlo_summary(rows, NOMINAL)
    assert (mc.samples, mc.failed, mc.nominal_variant_unserved, mc.unproven) == (7, 2, 1, 1)
    assert mc.nominal_variant == "quantization:fp8"
    assert mc.decision_stability == pytest.approx({"quantization:fp8": 3 / 7, "optimal": 1 / 7,
                                                   "infeasible": 1 / 7, "error": 2 / 7})
    assert mc.nominal_variant_cost_percentiles_usd["p50"] == pytest.approx(2_750.0)  # of 1000, 2000, 3500, 4000
    assert mc.nominal_variant_cost_percentiles_lower_usd["p50"] == pytest.approx(2_000.0)  # 4000 → its bound 2000


def test_an_error_row_carries_no_figures_of_the_plan_before_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A sample whose own plan solved but whose nominal re-solve failed is an error row without the
    plan's costs, fleet or variant: it counts once, as failed."""
    import json as _json

    import planner
    from planner.errors import PlannerError
    from planner.insight import sweeps

    calls = iter([SimpleNamespace(status="optimal", lifetime_cost_usd=100.0, one_time_cost_usd=0.0,
                                  recurring_cost_usd=100.0, variant_names=["caching:prefix"], fleet=[],
                                  timings={"solve_s": 0.1}, message="", bound_usd=None, solver=None),
                  PlannerError("nominal failed", "techniques")])

    def fake_plan(*_a: object, **_k: object) -> object:
        nxt = next(calls)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt

    monkeypatch.setattr("planner.optimize.planning.plan_scenario", fake_plan)
    monkeypatch.setattr(sweeps, "_catalog", lambda overlays: None)
    monkeypatch.setattr(sweeps, "_candidates", lambda scenario, overlays: None)
    scenario_json = planner.load_scenario(planner.demo_scenario_path()).model_dump_json()
    rows = sweeps.run_batch(scenario_json, (), [(0, {})], 0, {"quantization": ["fp8"]}, None)
    assert rows[0]["status"] == "error" and "nominal failed" in rows[0]["error"]
    assert not {"lifetime_cost_usd", "variant", "fleet"} & set(rows[0]), _json.dumps(rows[0])
