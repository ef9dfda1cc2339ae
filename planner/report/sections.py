"""The report as an ordered list of sections (paragraphs, one table, notes) — the single layout the
three renderers share.  A renderer turns a :class:`Section` into rich, Markdown or HTML and adds
nothing but charts (HTML), so a figure, a warning or a status column present in one format is
present in all of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from planner.plan_model import tp_label
from planner.report.model import Report, TrainingComparison
from planner.report.render import money


@dataclass(frozen=True)
class Section:
    key: str  # stable id: the HTML anchor, and where the HTML renderer places a chart
    title: str
    lines: list[str] = field(default_factory=list)  # paragraphs before the table
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    right: frozenset[int] = frozenset()  # columns aligned right (numbers)
    notes: list[str] = field(default_factory=list)  # paragraphs after the table


def _quality(score: float | None, floor: float | None) -> str:
    if score is None:
        return "-"
    return f"{score:.2f}" + (f" ({floor:.2f})" if floor is not None else " (no floor)")


def sections(r: Report) -> list[Section]:
    out = [Section("summary", r.title, lines=[*r.headline, f"generated {r.generated_at} by whatif-planner "
                                               f"{r.tool_version}; catalog {r.catalog_version}"
                                               + (f"; overlays: {', '.join(r.catalog_overlays)}"
                                                  if r.catalog_overlays else "")])]
    if r.infeasibility:
        out.append(Section("infeasibility", "Why there is no plan", lines=list(r.infeasibility)))
    if r.classes:
        out.append(Section("classes", "Classes: worst case against the targets",
                           headers=["class", "TTFT ms (target)", "TPOT ms (target)", "quality (floor)"],
                           rows=[[c.workload, f"{c.worst_ttft_ms:,.0f} ({c.ttft_target_ms:.10g})",
                                  f"{c.worst_tpot_ms:,.1f} ({c.tpot_target_ms:.10g})",
                                  _quality(c.quality_score, c.quality_floor)] for c in r.classes],
                           right=frozenset({1, 2, 3})))
    if r.deployments:
        out.append(_deployments(r))
    if r.slices:
        out.append(_slices(r))
    if r.fleet:
        out.append(Section("fleet", "Fleet: GPUs in service by month",
                           headers=["hardware mode", *(str(m) for m in r.fleet_months)],
                           rows=[[f.hardware_mode, *(str(g) if g else "" for g in f.gpus)] for f in r.fleet],
                           right=frozenset(range(1, len(r.fleet_months) + 1)),
                           notes=[f"In reserve: {x}" for x in r.reserve]))
    if r.lifetime_cost_usd is not None:
        out.append(Section("costs", "Cost breakdown (present value)", headers=["part", "USD"],
                           rows=[[c.label, f"{c.usd:,.0f}"] for c in r.costs] + [["total", f"{r.lifetime_cost_usd:,.0f}"]],
                           right=frozenset({1}), notes=[f"Basis: {r.cost_basis}."]))
    if r.training is not None:
        out.append(_training(r.training))
    if r.explanation is not None:
        out += _explanation(r)
    out.append(Section("inputs", "Inputs and assumptions", headers=["group", "input", "value", "source"],
                       rows=[[a.group, a.name, a.value, a.source] for a in r.inputs]))
    if r.prices:
        out.append(Section("prices", "Prices used", headers=["hardware", "mode", "provider", "price", "date", "source"],
                           rows=[[p.hardware, p.mode, p.provider, p.price + (" (derived)" if p.derived else ""),
                                  p.source_date, p.source] for p in r.prices]))
    out.append(Section("notes", "Warnings, exclusions, solver",
                       lines=[f"warning: {w}" for w in r.warnings] + [f"excluded {e}" for e in r.exclusions]
                       + [f"solver: {r.solver}"]))
    return out


def _deployments(r: Report) -> Section:
    """Deployments per class (and per time slice when the plan has slices).

    Where every deployment runs one variant the "techniques" and "quality" columns would repeat one
    value on every row (and wrap the table on a terminal): they are left out and a line above the
    table names the variant; its quality per class is the classes table's."""
    sliced = bool(r.slices)
    variants = {d.variant or "baseline" for d in r.deployments}
    mixed = len(variants) > 1
    headers = ["class", "months", *(["slice"] if sliced else []), *(["techniques"] if mixed else []), "hardware",
               "TP", "batch", "replicas", "GPUs", "share of class" if sliced else "share", "load", "TTFT ms", "TPOT ms",
               *(["quality"] if mixed else [])]
    rows = [[d.workload, d.months, *([d.slice] if sliced else []), *([d.variant or "baseline"] if mixed else []),
             d.hardware, d.pools_tp or tp_label(d.tp, d.expert_parallel).removeprefix("TP"),  # under "TP"
             d.batch, d.replicas, d.gpus, d.traffic_share, d.load, f"{d.ttft_ms:,.0f}", f"{d.tpot_ms:,.1f}",
             *(["-" if d.quality_score is None else f"{d.quality_score:.2f}"] if mixed else [])]
            for d in r.deployments]
    first = 3 + sliced + mixed  # the first numeric column: "TP"
    lines = [] if mixed else [f"Every deployment runs {variants.pop()} (quality per class: the classes table)."]
    lines.append("load: the share of the replicas' saturated throughput in use at the class's provisioned rate "
                 "(its busiest hour at the period's end, spread over the class's lines by capacity); near 100 % "
                 "the queue, not the roofline, sets the tail")
    return Section("deployments", "Deployments per class" + (" and time slice" if sliced else ""), lines=lines,
                   headers=headers, rows=rows, right=frozenset(range(first, first + 8 + mixed)))


def _slices(r: Report) -> Section:
    """Fixed and elastic GPUs per time slice of the day or week."""
    modes = sorted({m for row in r.slices for m in row.elastic_gpus})
    return Section("slices", f"Time slices: fixed and elastic GPUs over the "
                             f"{'week' if r.cycle_hours == 168 else 'day'} (month {r.slice_month})",
                   lines=[("Reserved and bought GPUs serve every slice; on-demand and spot GPUs are held "
                          "(and paid) only in the slices listed. Each class is sized for its busiest hour in "
                          "a slice; a deferrable class is served where it is cheapest within its deadline.")],
                   headers=["slice", "clock", "hours", "fixed GPUs", *modes, "load per class"],
                   rows=[[str(x.index), x.clock, f"{x.hours_per_cycle:g}", str(x.fixed_gpus),
                          *(str(x.elastic_gpus.get(m, 0)) for m in modes), "; ".join(x.classes)]
                         for x in r.slices],
                   right=frozenset(range(2, 4 + len(modes))))


def _training(t: TrainingComparison) -> Section:
    """Cumulative serving cost by period end with the crossover as its own marked row (after the
    last row when it is extrapolated past the horizon)."""
    rows: list[list[str]] = []
    marker = (["crossover", "" if t.crossover_month is None else f"{t.crossover_month:.1f}", money(t.training_usd),
               "extrapolated past the horizon" if t.crossover_extrapolated else "serving = training"]
              if t.crossover_month is not None else None)
    for month, cumulative in zip(t.months, t.cumulative_serving_usd, strict=True):
        if marker and t.crossover_month is not None and not t.crossover_extrapolated and month > t.crossover_month:
            rows.append(marker)
            marker = None
        share = "" if not t.training_usd else f"{cumulative / t.training_usd:.0%} of training"
        rows.append(["", f"{month:g}", money(cumulative), share])
    if t.settlement_usd:
        rows.append(["horizon end", f"{t.months[-1]:g}", money(t.cumulative_serving_usd[-1] + t.settlement_usd),
                     "with the resale credit and commitments past the horizon"])
    if marker:
        rows.append(marker)
    return Section("training", f"Training vs inference ({t.basis})",
                   lines=[f"base model training: {money(t.training_usd)} — {t.training_source}", t.note],
                   headers=["", "month", f"cumulative serving ({t.basis})", "against training"], rows=rows,
                   right=frozenset({1, 2}))


def _explanation(r: Report) -> list[Section]:
    e = r.explanation
    assert e is not None
    out = [Section("why", "Why this plan", lines=([e.saving] if e.saving else [])
                   + [f"binding: {b}" for b in e.binding or ["none within 5 %"]]
                   + [f"shadow price: {s}" for s in e.shadow_prices]
                   + [f"service level: {x}" for x in e.service_levels])]
    if e.alternatives:
        out.append(Section("alternatives", "Alternatives (next-best variants)",
                           headers=["variant", "lifetime cost", "status", "difference", "quality"],
                           rows=[[a.variant, a.cost, a.status, a.difference, a.quality] for a in e.alternatives],
                           right=frozenset({1, 3}),
                           notes=["An interval here bounds the best plan among the variants not yet shown, so a row "
                                  "of the baseline variant may carry a lower bound than the baseline's own line."]
                           if any(a.status != "optimal" for a in e.alternatives) else []))
    if e.sensitivity:
        out.append(Section("sensitivity", _sensitivity_title([s.delta for s in e.sensitivity]),
                           lines=["low / high: the input at its low / high end (not the cheaper / dearer case: a "
                                  "longer useful life or a higher efficiency costs less)"],
                           headers=["input", "cost low", "status low", "cost high", "status high",
                                    "decision vs the plan"],
                           rows=[[s.input, s.low, s.status_low, s.high, s.status_high,
                                  "same" if not s.decision_changes else f"low {s.change_low}, high {s.change_high}"]
                                 for s in e.sensitivity],
                           right=frozenset({1, 3}),
                           notes=["A cost not proven optimal is shown as [proven bound, best found] with its status.",
                                  "Decision vs the plan: 'variant' = another technique combination, 'fleet' = the "
                                  "same variants on another hardware/mode mix. The re-solves stop within "
                                  f"{e.resolve_gap_rel:.1%} of their optimum, so a variant that ties with the plan's "
                                  "within it can appear; an end the plan still serves is never dearer than the "
                                  "plan's deployments re-priced."]))
    return out


def _sensitivity_title(deltas: list[float]) -> str:
    """The move most rows share (the scenario's ±delta); a row moved otherwise (the efficiency factors by
    their held-out error band) names its own move in its label."""
    common = Counter(round(d, 9) for d in deltas).most_common(1)[0][0]
    other = any(round(d, 9) != common for d in deltas)
    return f"Sensitivity (±{common:.0%} of each input{', unless its row says otherwise' if other else ''})"
