"""Build the :class:`~planner.report.model.Report` once from a plan, its scenario, the catalog and
(optionally) the explanation; every rendering reads it.

Decisions:

* The training line is always drawn when a training bill is known: the scenario's
  (``model.training_cost_usd`` or ``model.training_tokens``, as the plan priced it), else an
  estimate from the catalog's published training tokens of the base model (``6·N_active·D`` on the
  scenario's training hardware at its MFU), labelled as such.
* The crossover is the month the cumulative serving cost (present value, spread evenly within a
  period — the plan's own rule) reaches the training bill.  Past the horizon it is extrapolated at
  the last period's present-value spend rate (demand growth and further discounting, which pull
  in opposite directions, are both left out) and marked ``extrapolated``.
* Explanation figures from a solve that was not proven optimal are shown as the interval
  ``[proven bound, best found]`` when the explanation carries a bound, otherwise with their status;
  the status columns appear in every rendering.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from typing import Any

from planner.catalog.store import Catalog
from planner.plan_model import Plan, ServedBy
from planner.report import provenance
from planner.report.model import (
    AlternativeLine,
    ClassResult,
    CostLine,
    Deployment,
    ExplanationPart,
    FleetRow,
    Report,
    SensitivityLine,
    SliceRow,
    TrainingComparison,
)
from planner.report.plan_view import BUSIEST_SLICE, cost_basis, cost_rows, fleet_matrix, headline
from planner.report.render import money, money_interval, short_variant
from planner.scenario.schema import Scenario

#: Environment variable of reproducible builds: when set, the report's generation time (seconds since the epoch).
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
PV_BASIS = "present value"


def generation_time(now: dt.datetime | None = None) -> str:
    """``now`` (UTC), else ``SOURCE_DATE_EPOCH`` when set, else the clock — ISO 8601 to the second."""
    if now is None:
        epoch = os.environ.get(SOURCE_DATE_EPOCH)
        now = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def build_report(plan: Plan, scenario: Scenario, catalog: Catalog, explanation: Any = None,
                 generated_at: dt.datetime | None = None) -> Report:
    """``explanation`` is a :class:`planner.insight.explanation.Explanation` (or None); read field by
    field so that rows gaining ``status``/``bound`` fields are shown without a change here."""
    keys, periods, cell = fleet_matrix(plan)
    served = plan.lifetime_cost_usd is not None
    return Report(
        title=f"{plan.scenario}: {plan.model}", status=plan.status, headline=headline(plan, timings=False),
        generated_at=generation_time(generated_at), tool_version=provenance.tool_version(),
        catalog_version=provenance.catalog_version(catalog), catalog_overlays=list(plan.catalog_overlays),
        inputs=provenance.inputs(scenario, catalog), prices=provenance.prices_used(plan, scenario, catalog),
        classes=[ClassResult(workload=c.workload, worst_ttft_ms=c.worst_ttft_ms, ttft_target_ms=c.ttft_target_ms,
                             worst_tpot_ms=c.worst_tpot_ms, tpot_target_ms=c.tpot_target_ms,
                             quality_score=c.quality_score, quality_floor=c.quality_floor) for c in plan.classes],
        deployments=_deployments(plan),
        fleet_months=[p * plan.period_months for p in periods],
        fleet=[FleetRow(hardware_mode=k, gpus=[cell.get((k, p), 0) for p in periods],
                        busiest_slice=k.endswith(BUSIEST_SLICE)) for k in keys],
        costs=[CostLine(label=label, usd=usd) for label, usd in cost_rows(plan)],
        lifetime_cost_usd=plan.lifetime_cost_usd, cost_basis=cost_basis(plan),
        training=_training(plan, scenario, catalog) if served else None,
        infeasibility=[f"{f.family}: {f.message}" for f in plan.infeasibility],
        warnings=list(plan.warnings), exclusions=_exclusions(plan, explanation), solver=_solver(plan),
        explanation=_explanation(explanation) if explanation is not None and served else None,
        reserve=_reserve(plan, scenario) if served else [],
        **_slices(plan))


def _span(values: list[float], fmt: str | Callable[[float], str]) -> str:
    """The range of ``values`` over a run (``"3-19"``), one figure when both ends print alike;
    ``fmt``: a format spec or a function printing one value."""
    show = fmt if callable(fmt) else (lambda value: format(value, fmt))
    low, high = show(min(values)), show(max(values))
    return low if low == high else f"{low}-{high}"


def _share_span(shares: list[float]) -> str:
    """Traffic shares as whole percent, their range over a run (``"9-11%"``); a share that carries
    traffic but rounds to 0 % prints as ``"<1%"`` (a replica filling a period's last 0.2 % is real
    and paid for, and ``"0%"`` would read as an idle one)."""
    def percent(share: float) -> str:
        whole = round(100 * share)
        return "<1" if whole == 0 and share > 0 else f"{whole:d}"

    return _span(shares, percent) + "%"


def _load_span(loads: list[float | None]) -> str:
    """Utilisations as whole percent, their range over a run (``"96-100%"``); ``"-"`` when not modelled."""
    known = [x for x in loads if x is not None]
    return _span(known, lambda x: f"{100 * x:.0f}") + "%" if known else "-"


def _deployments(plan: Plan) -> list[Deployment]:
    """Per class, consecutive periods served by the same deployment collapse into one row; classes in the
    scenario's order (as the classes table lists them), then by first month, slice (as a number: slice 10
    after slice 9), hardware, TP and batch."""
    runs: dict[tuple[Any, ...], list[list[ServedBy]]] = {}
    for s in sorted(plan.serving, key=lambda s: s.period):
        pools = None if s.prefill is None or s.decode is None else (
            s.prefill.hardware, s.prefill.tp, s.prefill.batch, s.decode.hardware, s.decode.tp, s.decode.batch, s.link,
            _per_block(s))
        key = (s.workload, s.variant, s.hardware, s.tp, s.batch, s.measured, s.slice, pools)
        chains = runs.setdefault(key, [])
        if chains and chains[-1][-1].period == s.period - 1:
            chains[-1].append(s)
        else:
            chains.append([s])
    out = []
    for chains in runs.values():
        for run in chains:
            s = run[0]
            batch, replicas = "measured" if s.measured else f"b{s.batch}", _span([x.replicas for x in run], "d")
            pools_tp: str | None = None
            if s.disaggregated and s.prefill is not None and s.decode is not None:  # each pool's own, prefill first
                pools_tp = (f"{s.prefill.parallelism.removeprefix('TP')}+{s.decode.parallelism.removeprefix('TP')}")
                batch = f"b{s.prefill.batch}+b{s.decode.batch}"
                replicas = (f"{_span([x.prefill.replicas for x in run if x.prefill], 'd')}+"
                            f"{_span([x.decode.replicas for x in run if x.decode], 'd')}")
            out.append(Deployment(
                workload=s.workload, months=f"{s.period * plan.period_months}-{(run[-1].period + 1) * plan.period_months}",
                variant=short_variant(s.variant), hardware=_pools(run) if s.disaggregated else s.hardware, tp=s.tp,
                pools_tp=pools_tp, batch=batch, replicas=replicas,
                gpus=_span([x.gpus for x in run], "d"),
                traffic_share=_share_span([x.traffic_share for x in run]),
                load=_load_span([x.utilisation for x in run]),
                ttft_ms=s.ttft_ms, tpot_ms=s.tpot_ms, quality_score=s.quality_score,
                slice="" if s.slice is None else str(s.slice), expert_parallel=s.expert_parallel))
    order = {c.workload: i for i, c in enumerate(plan.classes)}  # the scenario's order, as the classes table
    return sorted(out, key=lambda d: (order.get(d.workload, len(order)), d.workload, int(d.months.split("-")[0]),
                                      int(d.slice or 0), d.hardware, d.tp, d.batch))


def _pools(run: list[ServedBy]) -> str:
    """A disaggregated deployment as ``prefill h100-sxm TP2 ×3 + decode h200 TP4 ×2 (KV ib-ndr 4%)``, over
    an intra-node link ``prefill h200 TP1 ×8 + decode h200 TP2 ×2 in 2 servers of 4 + 1 (KV nvlink4 3%)``,
    or ``… in 2 servers, 4 blocks of 1 + 1 …`` when a block is less than a server (replica counts as
    their range over the run)."""
    pre, dec, first = [s.prefill for s in run], [s.decode for s in run], run[0]
    assert first.prefill is not None and first.decode is not None
    utilisation = f" (KV {first.link} {100 * (first.link_utilisation or 0.0):.0f}%)"
    unit = _per_block(first)
    servers = _span([s.scale_up_domains or 0 for s in run], "d")
    blocks = _span([s.unit_blocks or 0 for s in run], "d")
    where = f" in {servers} {'server' if servers == '1' else 'servers'}"
    domains = ("" if unit is None else f"{where} of {unit[0]} + {unit[1]}" if blocks == servers
               else f"{where}, {blocks} {'block' if blocks == '1' else 'blocks'} of {unit[0]} + {unit[1]}")
    return (f"prefill {first.prefill.hardware} {first.prefill.parallelism} ×{_span([p.replicas for p in pre if p], 'd')}"
            f" + decode {first.decode.hardware} {first.decode.parallelism} ×{_span([d.replicas for d in dec if d], 'd')}"
            + domains + utilisation)


def _per_block(s: ServedBy) -> tuple[int, int] | None:
    """An intra-node deployment's prefill and decode replicas per block (None: free pools)."""
    if not s.unit_blocks or s.prefill is None or s.decode is None:
        return None
    return s.prefill.replicas // s.unit_blocks, s.decode.replicas // s.unit_blocks


def _reserve(plan: Plan, scenario: Scenario) -> list[str]:
    """What the plan keeps in reserve: the owned fleet's spares for its expected repairs (the most owned
    GPUs expected out at a time; with ``market.spares = "expected"``, the default, none held and the
    spare share charged; with ``"whole"`` whole spare GPUs, in the fleet's counts), how spot reclaims
    are covered (``market.spot_reclaims``) when the plan holds spot GPUs, and each class's replica floor
    (``min_replicas``)."""
    out = []
    spares: dict[int, float] = {}
    for f in plan.fleet:
        spares[f.period] = spares.get(f.period, 0.0) + f.spare_gpus
    if any(v > 0 for v in spares.values()):
        peak = max(spares, key=lambda p: (spares[p], -p))
        held = ("no whole spare GPU held, every owned GPU charged 1/(1 - u) of itself (market.spares = \"expected\"), "
                f"so that month at least one of the {_owned(plan, peak)} owned GPUs is out "
                f"{_any_out(plan, peak):.1%} of the time" if scenario.market.spares == "expected" else
                "the fleet counts include whole spare GPUs of the same type covering them, owned or rented "
                "(market.spares = \"whole\")")
        out.append(f"spares: up to {_few(spares[peak])} owned GPUs expected out for repair at a time (month "
                   f"{peak * plan.period_months}; u = annual failure rate x repair days / 365.25 of the owned "
                   f"fleet); {held}")
    if any(f.mode == "spot" for f in plan.fleet):
        out.append("spot: a GPU is kept through a slice of H hours with probability k = (1 - reclaims per hour)^H; "
                   + ("every spot GPU is charged 1/k of its price, none held for reclaims (market.spot_reclaims = "
                      "\"expected\")" if scenario.market.spot_reclaims == "expected" else
                      "whole spot GPUs, counting k each, cover the expected reclaims, so a slice may hold more spot "
                      "GPUs than its replicas use (market.spot_reclaims = \"whole\")")
                   + "; each reclaimed GPU's restart is charged")
    for w in scenario.workload:
        if w.min_replicas:
            out.append(f"{w.name}: at least {w.min_replicas} replicas in every period"
                       + (" and time slice" if plan.time_slices else "")
                       + (" for each phase (co-located replicas count for both, a pool's for its own)"
                          if scenario.plan.disaggregation else "") + " (replica floor, e.g. N+1)")
    return out


def _owned(plan: Plan, period: int) -> int:
    return sum(f.gpus_in_service for f in plan.fleet if f.period == period and f.spare_gpus > 0)


def _any_out(plan: Plan, period: int) -> float:
    """The share of time at least one owned GPU of ``period`` is out for repair, failures independent:
    ``1 − Π_lines (1 − u_l)^{N_l}`` with ``u_l = spare_gpus / N_l`` the line's repair share."""
    lines = [f for f in plan.fleet if f.period == period and f.spare_gpus > 0]
    return 1.0 - math.prod((1.0 - f.spare_gpus / f.gpus_in_service) ** f.gpus_in_service for f in lines)


def _few(gpus: float) -> str:
    """A fraction of a GPU to two decimals, or two significant figures below 0.1 (0.0015, not 0.00)."""
    return f"{gpus:.2f}" if gpus >= 0.1 else f"{gpus:.2g}"


def _slices(plan: Plan) -> dict[str, Any]:
    """The time-slice section's fields: each slice's load per class and the fleet in the last period
    (the largest under growth): fixed GPUs (reserved, bought) and elastic ones held in the slice."""
    if not plan.time_slices or not plan.fleet:
        return {}
    last = max(f.period for f in plan.fleet)
    fixed = sum(f.gpus_in_service for f in plan.fleet if f.period == last and f.slice is None)
    rows = []
    for t in plan.time_slices:
        elastic: dict[str, int] = {}
        for f in plan.fleet:
            if f.period == last and f.slice == t.index:
                elastic[f.mode] = elastic.get(f.mode, 0) + f.gpus_in_service
        served = t.served_by_period[last] if len(t.served_by_period) > last else t.served_by_class
        classes = [f"{name}: peak {t.peak_by_class[name]:.2f}x, {t.arrivals_by_class[name]:.0%} arrive, "
                   f"{served[name]:.0%} served" for name in t.peak_by_class]
        rows.append(SliceRow(index=t.index, clock=t.clock, hours=list(t.hours), hours_per_cycle=t.hours_per_cycle,
                             classes=classes, fixed_gpus=fixed, elastic_gpus=elastic))
    return {"slices": rows, "slice_month": last * plan.period_months, "cycle_hours": plan.time_slices[0].cycle_hours}


def _training_bill(plan: Plan, scenario: Scenario, catalog: Catalog) -> tuple[float | None, str]:
    """The base model's training bill, the plan's (:func:`planner.optimize.planning.base_training_cost`:
    given in the scenario, 0 included, or priced from its tokens or the catalog's, scaled by
    ``market.price_scale``), and its source in words.  Until the sixteenth session a bill given as 0 was
    replaced by the estimate (and the text asked for the field already set), and the estimate ignored the
    price scale; until the twenty-first the estimate was made here, and the plan's JSON had none."""
    source = plan.training_cost_source
    if plan.training_cost_usd is not None and source != "catalog":
        given = "model.training_cost_usd" if source == "model.training_cost_usd" else (
            f"model.training_tokens = {scenario.model.training_tokens:.3g}, 6·N_active·D on {scenario.training.hardware}")
        return plan.training_cost_usd, f"scenario ({given})"
    spec = catalog.models.get(plan.model)
    if spec is None or spec.training_tokens is None:
        return None, "not given (model.training_cost_usd or model.training_tokens) and not in the catalog"
    if plan.training_cost_usd is None:
        return None, f"{scenario.training.hardware} cannot price training (no on-demand price or tensor-core peak)"
    from planner.physics.training import price_training, training_flops

    job = price_training(training_flops(spec.params_active, spec.training_tokens),  # its hardware and MFU, named
                         hardware=scenario.training.hardware, catalog=catalog, mfu=scenario.training.mfu)
    scale = scenario.market.price_scale
    return plan.training_cost_usd, (f"estimated: 6·N_active·D with the catalog's {spec.training_tokens:.3g} training "
                                    f"tokens ({spec.source}, {spec.source_date}) on {job.hardware} at MFU {job.mfu:g}"
                                    + (f", prices x {scale:g} (market.price_scale)" if scale != 1 else "")
                                    + "; set model.training_cost_usd to give yours")


def _training(plan: Plan, scenario: Scenario, catalog: Catalog) -> TrainingComparison:
    training, source = _training_bill(plan, scenario, catalog)
    months, cumulative = [0.0], [0.0]
    for p, spend in enumerate(plan.discounted_spend_by_period_usd):
        months.append(float((p + 1) * plan.period_months))
        cumulative.append(cumulative[-1] + spend)
    horizon = plan.periods * plan.period_months
    crossover, extrapolated = None, False
    if training:
        for p, spend in enumerate(plan.discounted_spend_by_period_usd):
            if spend > 0 and cumulative[p] + spend >= training:
                crossover = p * plan.period_months + (training - cumulative[p]) / spend * plan.period_months
                break
        last = plan.discounted_spend_by_period_usd[-1] if plan.discounted_spend_by_period_usd else 0.0
        if crossover is None and last > 0:
            crossover = horizon + (training - cumulative[-1]) / (last / plan.period_months)
            extrapolated = True
    if not training:
        note = f"no training line: the base model's training bill is {source}"
    elif extrapolated:
        note = (f"serving overtakes training at month {crossover:.1f}, past the {horizon}-month horizon "
                "(extrapolated at the last period's present-value spend rate)")
    elif crossover is not None:
        note = f"serving overtakes training at month {crossover:.1f} of {horizon}"
    else:
        note = "serving never overtakes training (no serving spend)"
    settlement = plan.horizon_end_settlement_usd
    if settlement and training:
        net = f"adds {money(settlement)}" if settlement > 0 else f"credits {money(-settlement)}"
        note += (f"; the horizon's end {net} (resale credit, reservation months past it: present value), "
                 "not counted as serving spend")
    return TrainingComparison(basis=PV_BASIS, training_usd=training, training_source=source, months=months,
                              cumulative_serving_usd=cumulative, crossover_month=crossover,
                              crossover_extrapolated=extrapolated, note=note, settlement_usd=settlement)


def _exclusions(plan: Plan, explanation: Any) -> list[str]:
    examples: dict[str, list[str]] = {}
    for label, items in (getattr(explanation, "exclusions", None) or {}).items():
        examples[str(label).split(" (")[0]] = list(items)
    out = []
    for family, count in sorted(plan.exclusions.items()):
        shown = examples.get(family, [])[:2]
        out.append(f"{family}: {count}" + (f" (e.g. {'; '.join(shown)})" if shown else ""))
    return out


def _solver(plan: Plan) -> str:
    s = plan.solver
    if s is None:
        return "no solve"
    gap = f", gap {s.gap:.3%}" if s.gap is not None else ""
    return (f"{s.name} {s.status}{gap}: {s.variables} variables ({s.integer_variables} integer), {s.constraints} "
            f"constraints after pruning {s.pruning.get('deployments_evaluated', 0):,} deployments to "
            f"{s.pruning.get('columns', 0)} columns{_screening(s.pruning)}")


def _screening(pruning: dict[str, int]) -> str:
    """How the variant screening decided (``solver.pruning``'s counters, one-slice or time-sliced
    path): ``; 40 variants screened: 4 bounded by their relaxation, 4 searched`` — the rest were
    closed by a bound without a model.  Empty when fewer than two variants were screened."""
    screened = pruning.get("variants_screened", 0)
    if screened < 2:
        return ""
    searched = pruning.get("variants_solved_alone", pruning.get("variants_searched", 0))
    together = pruning.get("variants_proven_together", 0)
    return (f"; {screened} variants screened: {pruning.get('variants_lp_bounded', 0)} bounded by their relaxation, "
            f"{searched} searched" + (f" ({together} in one search of their union)" if together else ""))



def figure(value: float | None, status: str, bound: float | None) -> str:
    """A re-solved cost as printed: the value when proven, else ``[bound, best found]`` (or the
    value with its status when no bound is known).  Never a bare time-limited incumbent."""
    if status == "infeasible":
        return "infeasible"
    if value is None:
        return f"no plan ({status})"
    if status == "optimal":
        return money(value)
    if bound is not None:
        return f"{money_interval(bound, value)} ({status})"
    return f"{money(value)} ({status}, unproven)"


def _sensitivity(r: Any) -> SensitivityLine:
    return SensitivityLine(
        input=r.input, delta=r.delta, cost_low_usd=r.cost_low_usd, cost_high_usd=r.cost_high_usd,
        low=figure(r.cost_low_usd, r.status_low, r.bound_low_usd),
        high=figure(r.cost_high_usd, r.status_high, r.bound_high_usd),
        status_low=r.status_low, status_high=r.status_high, change_low=r.change_low, change_high=r.change_high,
        decision_changes=bool(r.decision_changes))


def _shadow(s: Any) -> str:
    where = (f" ({s.workload})" if s.workload and s.period is None  # "... in every period (chat)"
             else f" ({s.workload}, period {s.period})" if s.workload else "" if s.period is None
             else f" (period {s.period})")
    proof = "" if s.status == "optimal" else (
        f", {s.status}: up to {s.bound_usd:,.2f}" if s.bound_usd is not None else f", {s.status}, unproven")
    return f"{s.what}{where}: {s.usd:,.2f} {s.unit} [{s.method}{proof}]"


def _explanation(e: Any) -> ExplanationPart:
    saving = None
    if e.saving_usd is not None:
        baseline = figure(e.baseline_cost_usd, e.baseline_status, e.baseline_bound_usd)
        saving = (f"saving against the baseline ({e.baseline_variant}, {baseline}): {_saving_figure(e)}; every "
                  f"re-solve optimal within {e.resolve_gap_rel:.1%} or shown as [proven bound, best found]")
    shadow = [_shadow(s) for s in _shown_prices(e.shadow_prices)]
    alternatives = [AlternativeLine(
        variant="; ".join(a.variant_names) or "baseline", status=a.status,
        cost=figure(a.lifetime_cost_usd, a.status, a.bound_usd),
        difference="-" if a.delta_pct is None else f"{a.delta_pct:+.1%}",
        quality=", ".join(f"{k} {v:+.2f}" for k, v in a.quality_change.items()) or "same")
        for a in e.alternatives]
    return ExplanationPart(saving=saving, resolve_gap_rel=e.resolve_gap_rel,
                           binding=[f"{b.family} {b.subject}: {b.detail}" for b in e.binding],
                           shadow_prices=shadow, alternatives=alternatives,
                           sensitivity=[_sensitivity(r) for r in e.sensitivity],
                           service_levels=[_service_level(x) for x in getattr(e, "service_levels", [])])


def _saving_figure(e: Any) -> str:
    r"""The saving against the baseline as printed: a figure when both costs are proven, else the
    interval both intervals allow, ``[B_base − C_plan, C_base − B_plan]`` (each ``B`` the proven bound,
    ``C`` the plan found; a proven cost is its own bound), with its share of the baseline."""
    plan = e.plan
    base_low = e.baseline_bound_usd if e.baseline_status != "optimal" and e.baseline_bound_usd is not None \
        else e.baseline_cost_usd
    plan_low = plan.bound_usd if plan.status != "optimal" and plan.bound_usd is not None else plan.lifetime_cost_usd
    low, high = base_low - plan.lifetime_cost_usd, e.baseline_cost_usd - plan_low
    if abs(high - low) < 0.5:
        return f"{money(e.saving_usd)} ({e.saving_pct:.1%})"
    return (f"{money_interval(low, high)} ({low / e.baseline_cost_usd:.1%}–{high / e.baseline_cost_usd:.1%}; "
            "the costs are intervals)")


def _shown_prices(prices: list[Any]) -> list[Any]:
    """The shadow prices a report prints: demand's for the first period (the JSON has every period's),
    the re-solved ones, and for every other cap (a quota) the period where it is worth most — until the
    eleventh session a quota binding only after period 0 had its price in the JSON alone."""
    shown = [s for s in prices if s.period is None or (s.workload is not None and s.period == 0)]
    best: dict[str, Any] = {}
    for s in prices:
        if s.workload is None and s.period is not None and (s.what not in best or s.usd > best[s.what].usd):
            best[s.what] = s
    return shown + list(best.values())


def _service_level(x: Any) -> str:
    """"<choice>: costs $X" (or "saves $X") against the plan re-solved without it, with that re-solve's figure."""
    without = figure(x.cost_without_usd, x.status, x.bound_without_usd)
    if x.usd is None:
        return f"{x.what}: without it {without}"
    if abs(x.usd) < 0.5:
        return f"{x.what}: makes no difference (without it {without})"
    verb = "costs" if x.usd > 0 else "saves"
    return f"{x.what}: {verb} {money(abs(x.usd))} (without it {without})"
