"""Hand checks of the report build, sections, renderings and charts that a mutation review found unpinned
(test_views_hand_checks.py covers the view modules; this file the builder, the layouts and the charts).

Every plan, explanation and report is built by hand — a plan as a namespace of the figures a helper reads,
a small :class:`planner.Plan` without a solve, or the stored snapshot report updated field by field — and
every expected figure is worked out in the docstring or a comment.  No test solves a plan; the charts are
inspected as matplotlib figures (``_svg`` stubbed), not as SVG text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import planner
from planner.catalog.store import Catalog
from planner.errors import InputError
from planner.optimize.planning import base_training_cost
from planner.physics.training import price_training, training_flops
from planner.plan_model import FleetEntry, Infeasibility, PoolUse, ServedBy
from planner.report import charts, documents, report_charts
from planner.report.build import (
    _deployments,
    _exclusions,
    _explanation,
    _reserve,
    _saving_figure,
    _service_level,
    _shadow,
    _shown_prices,
    _slices,
    _solver,
    _training,
    build_report,
    figure,
    generation_time,
)
from planner.report.layouts import _html_table, _md_section, report_html, report_markdown, report_table
from planner.report.model import (
    AlternativeLine,
    ClassResult,
    CostLine,
    Deployment,
    FleetRow,
    PriceUsed,
    Report,
    SensitivityLine,
    SliceRow,
    TrainingComparison,
)
from planner.report.provenance import inputs, prices_used
from planner.report.render import (
    money,
    money_interval,
    overlay_line,
    preview_markdown,
    short_variant,
    signed_money,
    training_table,
)
from planner.report.sections import Section, sections

SNAPSHOT = Path(__file__).parent / "snapshots" / "report.json"
FIXED_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


# ------------------------------------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def stored() -> Report:
    """The stored snapshot report; each test replaces the fields it checks."""
    return Report.model_validate_json(SNAPSHOT.read_text(encoding="utf-8"))


def section_of(report: Report, key: str) -> Section:
    found = [s for s in sections(report) if s.key == key]
    assert len(found) == 1, key
    return found[0]


def scenario(workload: dict[str, Any] | None = None, **parts: dict[str, Any]) -> planner.Scenario:
    """One class 'a' of 86,400 queries a day on Llama-3.1-8B, 12 months in quarters, h100-sxm on demand."""
    data: dict[str, Any] = {
        "schema_version": 1, "name": "hand", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100, **(workload or {})}],
        "horizon": {"months": 12, "period_months": 3},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"]},
    }
    for key, value in parts.items():
        data[key] = {**data.get(key, {}), **value}
    return planner.scenario_from_dict(data)


def plan_of(**over: Any) -> planner.Plan:
    """A served plan of 4 quarters without a solve: $1,000,000 present value, nothing else set."""
    data: dict[str, Any] = {
        "scenario": "hand", "model": "llama-3.1-8b", "status": "optimal", "message": "",
        "lifetime_cost_usd": 1_000_000.0, "one_time_cost_usd": 0.0, "recurring_cost_usd": 1_000_000.0,
        "cost_breakdown": None, "training_cost_usd": None, "training_share_of_total": None,
        "inference_overtakes_training_month": None, "variant": None, "variants": [], "variant_names": [],
        "fleet": [], "serving": [], "classes": [], "cost_per_million_queries_usd": 1.0, "total_queries": 1e9,
        "periods": 4, "period_months": 3, "solver": None, "infeasibility": [], "exclusions": {}, "warnings": [],
    }
    return planner.Plan(**{**data, **over})


def line(period: int, mode: str, gpus: int, spare: float = 0.0, slice_: int | None = None) -> FleetEntry:
    return FleetEntry(period=period, month_start=3 * period, hardware="h100-sxm", mode=mode, gpus_in_service=gpus,
                      gpus_acquired=0, spare_gpus=spare, slice=slice_)


def serving(period: int, **over: Any) -> ServedBy:
    data: dict[str, Any] = {"period": period, "workload": "chat", "variant": "quantization:fp8 + caching:prefix",
                            "hardware": "h100-sxm", "tp": 2, "batch": 64, "replicas": 1, "gpus": 2,
                            "traffic_share": 1.0, "ttft_ms": 500.0, "tpot_ms": 40.0, "quality_score": None}
    return ServedBy(**{**data, **over})


def training_plan(spend: list[float], training: float | None, settlement: float = 0.0,
                  model: str = "llama-3.1-8b", source: str | None = "model.training_cost_usd") -> SimpleNamespace:
    """A plan as the training comparison reads it: quarters, the spend per quarter (present value), the
    bill and its source (``Plan.training_cost_source``; none without a bill)."""
    return SimpleNamespace(training_cost_usd=training, discounted_spend_by_period_usd=spend, periods=len(spend),
                           period_months=3, horizon_end_settlement_usd=settlement, model=model,
                           training_cost_source=None if training is None else source)


def training_scenario(cost: float | None = 1.0, tokens: float | None = None, scale: float = 1.0) -> SimpleNamespace:
    return SimpleNamespace(model=SimpleNamespace(training_cost_usd=cost, training_tokens=tokens),
                           training=SimpleNamespace(hardware="h100-sxm", mfu=None),
                           market=SimpleNamespace(price_scale=scale))


def base_of(catalog: Catalog, model: str = "llama-3.1-8b") -> SimpleNamespace:
    """A candidate set as the training bill reads it: the base model only."""
    return SimpleNamespace(base_model=catalog.models[model])


def explanation_of(**over: Any) -> SimpleNamespace:
    """An explanation as ``explain`` returns it: the plan $300,000 proven, the baseline $600,000 proven."""
    data: dict[str, Any] = {
        "plan": SimpleNamespace(lifetime_cost_usd=300_000.0, status="optimal", bound_usd=None),
        "baseline_variant": "baseline on h100-sxm on-demand", "baseline_cost_usd": 600_000.0,
        "baseline_status": "optimal", "baseline_bound_usd": None, "saving_usd": 300_000.0, "saving_pct": 0.5,
        "resolve_gap_rel": 0.005, "binding": [], "shadow_prices": [], "alternatives": [], "sensitivity": [],
        "service_levels": [], "exclusions": {},
    }
    return SimpleNamespace(**{**data, **over})


# ------------------------------------------------------------------------------------------------ build_report

def test_a_plan_without_a_cost_has_no_training_explanation_or_reserve(catalog: Catalog) -> None:
    """An infeasible plan (no lifetime cost) shows why, each finding as 'family: message'; even with a
    training bill, an explanation and a replica floor it has no training line, no 'why' and no reserve,
    and no cost section."""
    quota = Infeasibility(family="quota", workload=None, requirement="h100-sxm <= 8 GPUs", best_achievable="16",
                          message="h100-sxm needs 16 GPUs, quota 8")
    plan = plan_of(status="infeasible", lifetime_cost_usd=None, one_time_cost_usd=None, recurring_cost_usd=None,
                   cost_per_million_queries_usd=None, training_cost_usd=1e6, infeasibility=[quota])
    sc = scenario(workload={"min_replicas": 2}, model={"training_cost_usd": 1e6})
    r = build_report(plan, sc, catalog, explanation_of(), generated_at=FIXED_TIME)
    assert r.infeasibility == ["quota: h100-sxm needs 16 GPUs, quota 8"]
    assert r.training is None and r.explanation is None and r.reserve == []
    keys = [s.key for s in sections(r)]
    assert "infeasibility" in keys and not {"costs", "training", "why"} & set(keys)


def test_the_fleet_columns_are_months_and_the_replica_floor_is_a_reserve_note(catalog: Catalog) -> None:
    """GPUs in periods 0, 1 and 3 of 3 months: columns at months 0, 3, 9 (period x 3); the class's floor of
    2 replicas (no time slices, co-located) is one reserve line."""
    plan = plan_of(fleet=[line(0, "on-demand", 4), line(1, "on-demand", 6), line(3, "on-demand", 8)])
    r = build_report(plan, scenario(workload={"min_replicas": 2}), catalog, generated_at=FIXED_TIME)
    assert r.fleet_months == [0, 3, 9]
    assert r.fleet == [FleetRow(hardware_mode="h100-sxm on-demand", gpus=[4, 6, 8])]
    assert r.reserve == ["a: at least 2 replicas in every period (replica floor, e.g. N+1)"]


def test_the_generation_time_is_utc_to_the_second() -> None:
    """12:00:00.999999 at UTC+2 is 10:00:00 UTC, the fraction dropped."""
    at = dt.datetime(2026, 1, 1, 12, 0, 0, 999_999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert generation_time(at) == "2026-01-01T10:00:00+00:00"


# ------------------------------------------------------------------------------------------------ deployments

def test_consecutive_periods_collapse_into_one_row_with_ranges() -> None:
    """'chat' served alike in periods 0, 1, 2 (replicas 5, 2, 4; GPUs 10, 4, 8; shares 100 %, 40 %, 80 %)
    and again in period 4 after a gap: two rows, months 0-9 (end of period 2 = 3 x 3) and 12-15; each range
    is min-max whatever the order.  A measured 'api' row reads 'measured' and, being 'api', sorts first
    although it comes later; a time-sliced row carries its slice."""
    rows = [serving(0, replicas=5, gpus=10, traffic_share=1.0), serving(1, replicas=2, gpus=4, traffic_share=0.4),
            serving(2, replicas=4, gpus=8, traffic_share=0.8), serving(4, replicas=3, gpus=6, traffic_share=0.5),
            serving(1, workload="api", tp=8, measured=True, slice=1, expert_parallel=4, quality_score=0.876)]
    out = _deployments(SimpleNamespace(serving=rows, period_months=3, classes=[]))  # type: ignore[arg-type]
    assert [(d.workload, d.months) for d in out] == [("api", "3-6"), ("chat", "0-9"), ("chat", "12-15")]
    api, run, single = out
    assert (api.batch, api.slice, run.slice) == ("measured", "1", "")
    assert (api.expert_parallel, run.expert_parallel, api.quality_score) == (4, None, 0.876)
    assert (run.variant, run.batch, run.replicas, run.gpus, run.traffic_share) == (
        "fp8, prefix", "b64", "2-5", "4-10", "40-100%")
    assert (single.replicas, single.gpus, single.traffic_share) == ("3", "6", "50%")


def test_deployments_follow_the_scenarios_class_order_and_number_their_slices() -> None:
    """Classes 'chat' then 'api' in the scenario (the classes table's order): chat's rows first although
    'api' sorts first by name; within a class, slice 2 before slice 10 (numbers, not strings)."""
    rows = [serving(0, workload="api"), serving(0, slice=10), serving(0, slice=2, hardware="h200")]
    plan = SimpleNamespace(serving=rows, period_months=3,
                           classes=[SimpleNamespace(workload="chat"), SimpleNamespace(workload="api")])
    out = _deployments(plan)  # type: ignore[arg-type]
    assert [(d.workload, d.slice) for d in out] == [("chat", "2"), ("chat", "10"), ("api", "")]


def test_a_disaggregated_row_lists_each_pool_prefill_first() -> None:
    """Prefill 3 x TP2 (batch 8) on h100-sxm, decode 2 x TP4 (batch 128) on h200 over an InfiniBand link
    at 4 % of its bandwidth (0.04 x 100): TP '2+4', batch 'b8+b128', replicas '3+2'."""
    row = serving(0, hardware="h100-sxm+h200", tp=4, batch=128, replicas=5, gpus=14,
                  prefill=PoolUse(hardware="h100-sxm", tp=2, batch=8, replicas=3),
                  decode=PoolUse(hardware="h200", tp=4, batch=128, replicas=2), link="ib-ndr", link_utilisation=0.04)
    [d] = _deployments(SimpleNamespace(serving=[row], period_months=3, classes=[]))  # type: ignore[arg-type]
    assert d.hardware == "prefill h100-sxm TP2 ×3 + decode h200 TP4 ×2 (KV ib-ndr 4%)"
    assert (d.pools_tp, d.batch, d.replicas) == ("2+4", "b8+b128", "3+2")


@pytest.mark.parametrize(("servers", "blocks", "prefill", "decode", "where"), [
    (2, 2, 8, 2, "in 2 servers of 4 + 1"),  # a block per server: 8 / 2 = 4 prefill, 2 / 2 = 1 decode each
    (1, 4, 8, 4, "in 1 server, 4 blocks of 2 + 1"),  # 4 blocks in one server: 8 / 4 = 2, 4 / 4 = 1
])
def test_intra_node_pools_name_their_servers_and_blocks(servers: int, blocks: int, prefill: int, decode: int,
                                                        where: str) -> None:
    row = serving(0, hardware="h200+h200", tp=2, replicas=prefill + decode, gpus=8 * servers,
                  prefill=PoolUse(hardware="h200", tp=1, batch=8, replicas=prefill),
                  decode=PoolUse(hardware="h200", tp=2, batch=64, replicas=decode), link="nvlink4",
                  link_utilisation=0.03, scale_up_domains=servers, unit_blocks=blocks)
    [d] = _deployments(SimpleNamespace(serving=[row], period_months=3, classes=[]))  # type: ignore[arg-type]
    assert d.hardware == f"prefill h200 TP1 ×{prefill} + decode h200 TP2 ×{decode} {where} (KV nvlink4 3%)"


# ------------------------------------------------------------------------------------------------ reserve, slices

def test_the_spares_line_is_the_period_with_most_spares_summed_over_lines() -> None:
    """Spares 0.10 in period 0, 0.25 + 0.50 = 0.75 in period 1 (two lines), 0.75 in period 2: the peak 0.75
    is first reached in period 1, month 1 x 3 = 3."""
    fleet = [line(0, "buy", 8, 0.1), line(1, "buy", 8, 0.25), line(1, "reserved-1y", 8, 0.5),
             line(2, "buy", 16, 0.75)]
    sc = SimpleNamespace(workload=[], plan=SimpleNamespace(disaggregation=False), market=SimpleNamespace(spares="whole"))
    [spares] = _reserve(SimpleNamespace(fleet=fleet, period_months=3, time_slices=[]), sc)  # type: ignore[arg-type]
    assert spares.startswith("spares: up to 0.75 owned GPUs expected out for repair at a time (month 3; ")
    assert spares.endswith('the fleet counts include whole spare GPUs of the same type covering them, owned or '
                           'rented (market.spares = "whole")')
    none = [line(0, "on-demand", 8), line(1, "on-demand", 8)]
    assert _reserve(SimpleNamespace(fleet=none, period_months=3, time_slices=[]), sc) == []  # type: ignore[arg-type]


def test_expected_spares_say_how_often_at_least_one_owned_gpu_is_out() -> None:
    """Period 1 holds two owned lines, 8 GPUs at u = 0.01 and 4 at u = 0.02 (spares 0.08 each, 0.16 in all,
    the peak): at least one of the 12 is out ``1 − 0.99⁸ · 0.98⁴ = 14.9 %`` of the time (failures
    independent); period 0's line (8 GPUs, 0.04) is not the peak."""
    fleet = [line(0, "buy", 8, 0.04), line(1, "buy", 8, 0.08), line(1, "buy", 4, 0.08), line(1, "on-demand", 5)]
    sc = SimpleNamespace(workload=[], plan=SimpleNamespace(disaggregation=False),
                         market=SimpleNamespace(spares="expected"))
    [spares] = _reserve(SimpleNamespace(fleet=fleet, period_months=3, time_slices=[]), sc)  # type: ignore[arg-type]
    share = 1 - 0.99 ** 8 * 0.98 ** 4
    assert f"{share:.1%}" == "14.9%"
    assert spares.startswith("spares: up to 0.16 owned GPUs expected out for repair at a time (month 3; ")
    assert spares.endswith(f"so that month at least one of the 12 owned GPUs is out {share:.1%} of the time")


def test_the_replica_floor_names_time_slices_and_phases_when_they_apply() -> None:
    sc = SimpleNamespace(workload=[SimpleNamespace(name="chat", min_replicas=2), SimpleNamespace(name="b", min_replicas=0)],
                         plan=SimpleNamespace(disaggregation=True))
    plan = SimpleNamespace(fleet=[], period_months=3, time_slices=["one"])
    assert _reserve(plan, sc) == [  # type: ignore[arg-type]
        "chat: at least 2 replicas in every period and time slice for each phase (co-located replicas count for "
        "both, a pool's for its own) (replica floor, e.g. N+1)"]


def test_the_slice_table_is_the_last_periods_fleet() -> None:
    """Period 0 holds 10 reserved + 7 on-demand; period 1 (the last, month 3) holds 4 reserved + 2 bought =
    6 fixed, and in slice 0 on-demand 3 + 2 = 5 and spot 1, in slice 1 on-demand 1.  Slice 0 serves 75 % of
    'chat' in period 1 (its period list); slice 1 has no period list and shows its first-period 25 %."""
    fleet = [line(0, "reserved-1y", 10), line(0, "on-demand", 7, slice_=0),
             line(1, "reserved-1y", 4), line(1, "buy", 2), line(1, "on-demand", 3, slice_=0),
             line(1, "on-demand", 2, slice_=0), line(1, "spot", 1, slice_=0), line(1, "on-demand", 1, slice_=1)]
    day = [SimpleNamespace(index=0, clock="00-12", hours=list(range(12)), hours_per_cycle=12.0, cycle_hours=24,
                           peak_by_class={"chat": 1.5}, arrivals_by_class={"chat": 0.6}, served_by_class={"chat": 0.5},
                           served_by_period=[{"chat": 0.5}, {"chat": 0.75}]),
           SimpleNamespace(index=1, clock="12-24", hours=list(range(12, 24)), hours_per_cycle=12.0, cycle_hours=24,
                           peak_by_class={"chat": 0.5}, arrivals_by_class={"chat": 0.4}, served_by_class={"chat": 0.25},
                           served_by_period=[])]
    out = _slices(SimpleNamespace(fleet=fleet, time_slices=day, period_months=3))  # type: ignore[arg-type]
    assert out["slice_month"] == 3 and out["cycle_hours"] == 24
    first, second = out["slices"]
    assert (first.fixed_gpus, first.elastic_gpus) == (6, {"on-demand": 5, "spot": 1})
    assert (second.fixed_gpus, second.elastic_gpus) == (6, {"on-demand": 1})
    assert first.classes == ["chat: peak 1.50x, 60% arrive, 75% served"]
    assert second.classes == ["chat: peak 0.50x, 40% arrive, 25% served"]
    assert _slices(SimpleNamespace(fleet=fleet, time_slices=[], period_months=3)) == {}  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ training line

def test_the_crossover_inside_the_horizon_by_hand() -> None:
    """Quarterly spend 100k, 200k, 300k, 400k: cumulative 0, 100k, 300k, 600k, 1M at months 0, 3, 6, 9, 12.
    A $280,000 bill is reached in the second quarter: 3 + (280k − 100k) / 200k x 3 = 3 + 2.7 = month 5.7."""
    t = _training(training_plan([1e5, 2e5, 3e5, 4e5], 280_000.0), training_scenario(), None)  # type: ignore[arg-type]
    assert t.months == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert t.cumulative_serving_usd == [0.0, 1e5, 3e5, 6e5, 1e6]
    assert t.crossover_month == pytest.approx(5.7) and not t.crossover_extrapolated
    assert t.note == "serving overtakes training at month 5.7 of 12"
    assert t.training_source == "scenario (model.training_cost_usd)"


def test_a_bill_met_exactly_at_a_period_end_crosses_there() -> None:
    """Spend 100k, 200k, 0, 400k against $300,000: the cumulative reaches exactly 300k at the end of the
    second quarter, month 3 + 200k / 200k x 3 = 6.0 (not month 9, after the empty third quarter)."""
    t = _training(training_plan([1e5, 2e5, 0.0, 4e5], 300_000.0), training_scenario(), None)  # type: ignore[arg-type]
    assert t.crossover_month == pytest.approx(6.0)


@pytest.mark.parametrize(("settlement", "clause"), [
    (-50_000.0, "; the horizon's end credits $50,000 (resale credit"),
    (20_000.0, "; the horizon's end adds $20,000 (resale credit"),
])
def test_past_the_horizon_the_crossover_is_extrapolated_at_the_last_rate(settlement: float, clause: str) -> None:
    """$1,360,000 against 1M spent in 12 months: the last quarter's 400k is 400k / 3 per month, so the
    remaining 360k takes 360k x 3 / 400k = 2.7 months: month 14.7.  The settlement is named, not added."""
    plan = training_plan([1e5, 2e5, 3e5, 4e5], 1_360_000.0, settlement)
    t = _training(plan, training_scenario(), None)  # type: ignore[arg-type]
    assert t.crossover_month == pytest.approx(14.7) and t.crossover_extrapolated
    assert t.note.startswith("serving overtakes training at month 14.7, past the 12-month horizon (extrapolated")
    assert clause in t.note and t.settlement_usd == settlement


def test_no_spend_never_overtakes_and_no_bill_draws_no_line(catalog: Catalog) -> None:
    idle = _training(training_plan([0.0, 0.0], 1e5), training_scenario(), None)  # type: ignore[arg-type]
    assert idle.crossover_month is None and idle.note == "serving never overtakes training (no serving spend)"
    unknown = _training(training_plan([1e5], None, settlement=-5e4, model="no-such-model"),  # type: ignore[arg-type]
                        training_scenario(cost=None), catalog)
    assert unknown.training_usd is None and unknown.crossover_month is None
    assert unknown.note == ("no training line: the base model's training bill is not given "
                            "(model.training_cost_usd or model.training_tokens) and not in the catalog")


def test_a_bill_estimated_from_the_catalog_names_its_basis(catalog: Catalog) -> None:
    """No bill in the scenario: the plan prices Llama-3.1-8B's published 1.5e13 training tokens on h100-sxm
    at the default MFU 0.4 (``planning.base_training_cost``, source ``catalog``) and the report names that
    basis; Mixtral has no published token count; gaudi3 has no on-demand price to put on the work, so the
    plan has no bill (an estimate nobody asked for is not refused) and the report says why."""
    usd, source = base_training_cost(training_scenario(cost=None), base_of(catalog), catalog)  # type: ignore[arg-type]
    job = price_training(training_flops(catalog.models["llama-3.1-8b"].params_active, 1.5e13), hardware="h100-sxm",
                         catalog=catalog)
    assert source == "catalog" and usd == job.cost_usd and usd is not None and usd > 0
    est = _training(training_plan([1e5], usd, source="catalog"), training_scenario(cost=None),  # type: ignore[arg-type]
                    catalog)
    assert est.training_usd == usd
    assert est.training_source.startswith("estimated: 6·N_active·D with the catalog's 1.5e+13 training tokens (")
    assert est.training_source.endswith(" on h100-sxm at MFU 0.4; set model.training_cost_usd to give yours")
    assert base_training_cost(training_scenario(cost=None), base_of(catalog, "mixtral-8x7b"),  # type: ignore[arg-type]
                              catalog) == (None, None)
    mixtral = _training(training_plan([1e5], None, model="mixtral-8x7b"), training_scenario(cost=None),  # type: ignore[arg-type]
                        catalog)
    assert mixtral.training_usd is None and mixtral.note.endswith("and not in the catalog")
    gaudi = training_scenario(cost=None)
    gaudi.training.hardware = "gaudi3"
    assert base_training_cost(gaudi, base_of(catalog), catalog) == (None, None)  # type: ignore[arg-type]
    unpriced = _training(training_plan([1e5], None), gaudi, catalog)  # type: ignore[arg-type]
    assert unpriced.training_usd is None and unpriced.note == (
        "no training line: the base model's training bill is gaudi3 cannot price training (no on-demand price or "
        "tensor-core peak)")
    tokens = training_scenario(cost=None, tokens=1.5e13)
    tokens.training.hardware = "gaudi3"
    with pytest.raises(InputError) as given:  # tokens the scenario gives must be priced
        base_training_cost(tokens, base_of(catalog), catalog)  # type: ignore[arg-type]
    assert given.value.field == "model.training_tokens"


def test_an_estimated_bill_is_scaled_as_given_tokens_are(catalog: Catalog) -> None:
    """``market.price_scale`` multiplies every hardware price, so the plan prices training tokens at
    ``job.cost_usd × scale`` whether the scenario gives them or the catalog does: at 0.5 half the unscaled
    estimate; the report says so.  (The report's own estimate was not scaled, until the sixteenth session.)"""
    cs: Any = base_of(catalog)
    unscaled: Any = training_scenario(cost=None)
    scaled: Any = training_scenario(cost=None, scale=0.5)
    tokens: Any = training_scenario(cost=None, tokens=1.5e13, scale=0.5)
    full, _ = base_training_cost(unscaled, cs, catalog)
    half, _ = base_training_cost(scaled, cs, catalog)
    given, source = base_training_cost(tokens, cs, catalog)
    assert full is not None and half == pytest.approx(0.5 * full) and (given, source) == (half, "model.training_tokens")
    plan: Any = training_plan([1e5], half, source="catalog")
    t = _training(plan, scaled, catalog)
    assert t.training_source.endswith(" on h100-sxm at MFU 0.4, prices x 0.5 (market.price_scale); set "
                                      "model.training_cost_usd to give yours")


def test_a_bill_given_as_zero_is_the_scenario_s_not_an_estimate(catalog: Catalog) -> None:
    """``model.training_cost_usd = 0`` (the schema allows it): the plan's bill is 0 and the report's too,
    sourced from the scenario; it was replaced by the catalog's $1.5 M estimate, whose text asked the
    user to set the field they had set."""
    t = _training(training_plan([1e5], 0.0), training_scenario(cost=0.0), catalog)  # type: ignore[arg-type]
    assert t.training_usd == 0.0 and t.training_source == "scenario (model.training_cost_usd)"


def test_a_bill_from_training_tokens_says_so() -> None:
    plan: Any = training_plan([1e5], 5e4, source="model.training_tokens")
    sc: Any = training_scenario(cost=None, tokens=1.5e13)
    t = _training(plan, sc, None)  # type: ignore[arg-type]
    assert t.training_source == "scenario (model.training_tokens = 1.5e+13, 6·N_active·D on h100-sxm)"


# ------------------------------------------------------------------------------------------------ notes, solver

def test_exclusions_are_sorted_with_two_examples_at_most() -> None:
    """The explanation labels a family 'unavailable (3)'; the report matches it by 'unavailable'."""
    plan = SimpleNamespace(exclusions={"unavailable": 3, "latency": 2})
    e = SimpleNamespace(exclusions={"unavailable (3)": ["a", "b", "c"]})
    assert _exclusions(plan, e) == ["latency: 2", "unavailable: 3 (e.g. a; b)"]  # type: ignore[arg-type]


def solver_of(**pruning: int) -> SimpleNamespace:
    return SimpleNamespace(solver=SimpleNamespace(
        name="highs", status="optimal", gap=0.000123, variables=100, integer_variables=40, constraints=50,
        pruning={"deployments_evaluated": 12_345, "columns": 67, **pruning}))


def test_the_solver_line_by_hand() -> None:
    """Gap 0.000123 = 0.012 %; two variants screened, one alone (the 'solved alone' count wins over the
    older 'searched' one), three proven in one search of their union; one variant screened: no clause."""
    full = _solver(solver_of(variants_screened=2, variants_lp_bounded=1, variants_solved_alone=1,  # type: ignore[arg-type]
                             variants_searched=9, variants_proven_together=3))
    assert full == ("highs optimal, gap 0.012%: 100 variables (40 integer), 50 constraints after pruning 12,345 "
                    "deployments to 67 columns; 2 variants screened: 1 bounded by their relaxation, 1 searched "
                    "(3 in one search of their union)")
    assert _solver(solver_of(variants_screened=1)).endswith("to 67 columns")  # type: ignore[arg-type]
    assert _solver(SimpleNamespace(solver=None)) == "no solve"  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ explanation

def test_an_infeasible_re_solve_prints_as_such() -> None:
    assert figure(1.0, "infeasible", None) == "infeasible"


def shadow(**over: Any) -> SimpleNamespace:
    data = {"what": "quota h100-sxm", "workload": None, "period": 2, "usd": 1234.5, "unit": "USD per GPU",
            "method": "lp-dual", "status": "optimal", "bound_usd": None}
    return SimpleNamespace(**{**data, **over})


def test_a_shadow_price_names_where_it_applies_and_its_proof() -> None:
    assert _shadow(shadow()) == "quota h100-sxm (period 2): 1,234.50 USD per GPU [lp-dual]"
    assert _shadow(shadow(workload="chat", period=0)).startswith("quota h100-sxm (chat, period 0): ")
    assert _shadow(shadow(period=None)).startswith("quota h100-sxm: 1,234.50")
    assert _shadow(shadow(status="feasible", bound_usd=1500.0)).endswith("[lp-dual, feasible: up to 1,500.00]")
    assert _shadow(shadow(status="feasible")).endswith("[lp-dual, feasible, unproven]")


def test_a_quota_is_shown_in_the_period_it_is_worth_most() -> None:
    """Worth −5 in period 0 and 1 in period 1: the dearest is period 1's 1, not the larger magnitude."""
    low, high = shadow(usd=-5.0, period=0), shadow(usd=1.0, period=1)
    assert _shown_prices([low, high]) == [high]


def level(usd: float | None) -> SimpleNamespace:
    return SimpleNamespace(what="chat: TTFT P99 900 ms", usd=usd, cost_without_usd=1e6, status="optimal",
                           bound_without_usd=None)


@pytest.mark.parametrize(("usd", "text"), [
    (12_345.4, "chat: TTFT P99 900 ms: costs $12,345 (without it $1,000,000)"),
    (-2_000.0, "chat: TTFT P99 900 ms: saves $2,000 (without it $1,000,000)"),  # a saving prints unsigned
    (0.3, "chat: TTFT P99 900 ms: makes no difference (without it $1,000,000)"),  # under half a dollar
    (None, "chat: TTFT P99 900 ms: without it $1,000,000"),
])
def test_a_service_level_costs_or_saves(usd: float | None, text: str) -> None:
    assert _service_level(level(usd)) == text


def test_the_saving_against_an_unproven_baseline_is_an_interval() -> None:
    """Baseline found $600,000, proven bound $550,000; plan proven $300,000: the saving lies in
    [550k − 300k, 600k − 300k] = [$250,000, $300,000], 250/600 = 41.7 % to 300/600 = 50.0 %."""
    e = explanation_of(baseline_status="feasible", baseline_bound_usd=550_000.0)
    assert _saving_figure(e) == "[$250,000, $300,000] (41.7%–50.0%; the costs are intervals)"


def test_a_saving_between_proven_costs_is_one_figure() -> None:
    assert _saving_figure(explanation_of()) == "$300,000 (50.0%)"  # 600k − 300k, half the baseline


def test_the_explanation_lines_by_hand() -> None:
    """The saving sentence with the re-solve gap 0.005 = 0.5 %; an alternative with no variant names is
    the baseline, its quality changes signed to 2 places; a binding row is 'family subject: detail'."""
    alt = SimpleNamespace(variant_names=[], status="optimal", lifetime_cost_usd=600_000.0, bound_usd=None,
                          delta_pct=1.0, quality_change={"chat": 0.5, "api": -1.25})
    bind = SimpleNamespace(family="latency", subject="chat", detail="TPOT 78 ms of 80 ms")
    part = _explanation(explanation_of(alternatives=[alt], binding=[bind]))
    assert part.saving == ("saving against the baseline (baseline on h100-sxm on-demand, $600,000): $300,000 "
                           "(50.0%); every re-solve optimal within 0.5% or shown as [proven bound, best found]")
    assert part.alternatives == [AlternativeLine(variant="baseline", status="optimal", cost="$600,000",
                                                 difference="+100.0%", quality="chat +0.50, api -1.25")]
    assert part.binding == ["latency chat: TPOT 78 ms of 80 ms"]
    open_ = SimpleNamespace(variant_names=["quantization:fp8"], status="feasible", lifetime_cost_usd=320_000.0,
                            bound_usd=310_000.0, delta_pct=None, quality_change={})
    [shown] = _explanation(explanation_of(alternatives=[open_])).alternatives
    assert (shown.cost, shown.difference, shown.quality) == ("[$310,000, $320,000] (feasible)", "-", "same")


# ------------------------------------------------------------------------------------------------ sections

def test_class_rows_round_latencies_and_show_the_quality_floor(stored: Report) -> None:
    """TTFT 1,234.56 ms to whole ms (1,235), TPOT 78.26 ms to 0.1 ms (78.3), targets as written; a score
    without a floor says so, no score is '-'."""
    def cls(score: float | None, floor: float | None) -> ClassResult:
        return ClassResult(workload="chat", worst_ttft_ms=1234.56, ttft_target_ms=2000, worst_tpot_ms=78.26,
                           tpot_target_ms=80, quality_score=score, quality_floor=floor)

    s = section_of(stored.model_copy(update={"classes": [cls(0.8, 0.75), cls(0.8, None), cls(None, None)]}),
                   "classes")
    assert s.rows == [["chat", "1,235 (2000)", "78.3 (80)", "0.80 (0.75)"],
                      ["chat", "1,235 (2000)", "78.3 (80)", "0.80 (no floor)"],
                      ["chat", "1,235 (2000)", "78.3 (80)", "-"]]


def test_cost_rows_are_whole_dollars_with_the_total_last(stored: Report) -> None:
    """Rent 1,234.56 → 1,235; a resale credit −100.4 → -100; total 1,134.16 → 1,134.  No lifetime cost: no
    cost section."""
    r = stored.model_copy(update={"costs": [CostLine(label="rent (on-demand)", usd=1234.56),
                                            CostLine(label="owned: resale at the end", usd=-100.4)],
                                  "lifetime_cost_usd": 1134.16})
    assert section_of(r, "costs").rows == [["rent (on-demand)", "1,235"], ["owned: resale at the end", "-100"],
                                           ["total", "1,134"]]
    assert "costs" not in [s.key for s in sections(r.model_copy(update={"lifetime_cost_usd": None}))]


def test_prices_mark_a_derived_price_and_notes_list_exclusions(stored: Report) -> None:
    derived = PriceUsed(hardware="h100-sxm", mode="reserved-1y", provider="lambda", price="$2.392 per GPU-hour",
                        source_date="2026-01-01", derived=True, source="on-demand x 0.8")
    r = stored.model_copy(update={"prices": [derived], "warnings": ["w"], "exclusions": ["latency: 2"],
                                  "solver": "no solve", "catalog_overlays": ["a.toml", "b.toml"]})
    assert section_of(r, "prices").rows[0][3] == "$2.392 per GPU-hour (derived)"
    assert section_of(r, "notes").lines == ["warning: w", "excluded latency: 2", "solver: no solve"]
    assert section_of(r, "summary").lines[-1].endswith("; overlays: a.toml, b.toml")


def deployment(**over: Any) -> Deployment:
    data: dict[str, Any] = {"workload": "chat", "months": "0-12", "variant": "fp8", "hardware": "h100-sxm", "tp": 8,
                            "batch": "b64", "replicas": "2", "gpus": "16", "traffic_share": "100%", "ttft_ms": 512.4,
                            "tpot_ms": 78.26, "quality_score": None}
    return Deployment(**{**data, **over})


def test_a_sliced_deployment_table_adds_the_slice_column(stored: Report) -> None:
    """With slices: 'slice' after 'months', the share is of the class, and the numeric columns (TP to
    TPOT) move one right: 4..11 with one variant.  8 GPUs a replica as 4 expert groups read '2×EP4';
    TPOT 78.26 → 78.3; the load, "-" when not modelled, after the share."""
    one = SliceRow(index=0, clock="00-24", hours=list(range(24)), hours_per_cycle=24.0, classes=[], fixed_gpus=2,
                   elastic_gpus={})
    r = stored.model_copy(update={"deployments": [deployment(expert_parallel=4, slice="0")], "slices": [one]})
    s = section_of(r, "deployments")
    assert s.title == "Deployments per class and time slice"
    assert s.headers[:3] == ["class", "months", "slice"] and s.headers[8] == "share of class"
    assert s.right == frozenset(range(4, 12)) and s.headers[9] == "load"
    assert s.rows == [["chat", "0-12", "0", "h100-sxm", "2×EP4", "b64", "2", "16", "100%", "-", "512", "78.3"]]
    flat = section_of(stored.model_copy(update={"deployments": [deployment()], "slices": []}), "deployments")
    assert flat.headers[7] == "share" and flat.right == frozenset(range(3, 11)) and flat.rows[0][3] == "8"


def test_the_deployment_table_names_one_variant_above_it_and_two_in_a_column(stored: Report) -> None:
    """One variant on every row: no 'techniques' or 'quality' column (each would repeat one value), a line
    names it.  Two variants: both columns, 'techniques' after 'months' and 'quality' last, and the
    numeric columns TP..quality are 4..12 (9 columns); an empty variant reads "baseline"; a missing score
    prints '-', 0.876 prints 0.88.
    A line under the title says what "load" is, with one variant or two."""
    one = section_of(stored.model_copy(update={"deployments": [deployment(), deployment(workload="batch")],
                                               "slices": []}), "deployments")
    assert "techniques" not in one.headers and "quality" not in one.headers
    assert one.lines[0] == "Every deployment runs fp8 (quality per class: the classes table)."
    assert one.lines[1].startswith("load: the share of the replicas' saturated throughput")
    two = section_of(stored.model_copy(update={"deployments": [deployment(quality_score=0.876),
                                                                deployment(variant="")], "slices": []}),
                     "deployments")
    assert two.lines == one.lines[1:] and two.headers[2] == "techniques" and two.headers[-1] == "quality"
    assert two.right == frozenset(range(4, 13))
    assert [row[2] for row in two.rows] == ["fp8", "baseline"] and [row[-1] for row in two.rows] == ["0.88", "-"]


def comparison(**over: Any) -> TrainingComparison:
    data: dict[str, Any] = {"basis": "present value", "training_usd": 200_000.0, "training_source": "scenario",
                            "months": [0.0, 3.0, 6.0], "cumulative_serving_usd": [0.0, 50_000.0, 300_000.0],
                            "crossover_month": 3.0, "crossover_extrapolated": False, "note": "hand"}
    return TrainingComparison(**{**data, **over})


def test_the_crossover_row_follows_the_last_month_before_it(stored: Report) -> None:
    """A crossover at month 3.0 comes after the month-3 row (3 is not past 3), before month 6; 50,000 of a
    200,000 bill is 25 %."""
    s = section_of(stored.model_copy(update={"training": comparison()}), "training")
    assert s.lines == ["base model training: $200,000 — scenario", "hand"]
    assert s.rows == [["", "0", "$0", "0% of training"], ["", "3", "$50,000", "25% of training"],
                      ["crossover", "3.0", "$200,000", "serving = training"], ["", "6", "$300,000", "150% of training"]]


def test_an_extrapolated_crossover_is_the_last_row(stored: Report) -> None:
    t = comparison(cumulative_serving_usd=[0.0, 50_000.0, 100_000.0], crossover_month=12.0,
                   crossover_extrapolated=True)
    s = section_of(stored.model_copy(update={"training": t}), "training")
    assert s.rows[-1] == ["crossover", "12.0", "$200,000", "extrapolated past the horizon"] and len(s.rows) == 4


def test_the_why_and_sensitivity_sections_by_hand(stored: Report) -> None:
    """No binding constraint says so; the sensitivity title is its one row's ±0.2 = ±20 %; a changed
    decision names each end's change, low first; a service level is its own line."""
    line_ = SensitivityLine(input="demand", delta=0.2, cost_low_usd=1.0, cost_high_usd=2.0, low="$1", high="$2",
                            status_low="optimal", status_high="optimal", change_low="fleet", change_high="variant",
                            decision_changes=True)
    assert stored.explanation is not None
    e = stored.explanation.model_copy(update={"binding": [], "shadow_prices": [], "sensitivity": [line_],
                                              "service_levels": ["chat: costs $5"]})
    r = stored.model_copy(update={"explanation": e})
    why = section_of(r, "why")
    assert "binding: none within 5 %" in why.lines and why.lines[-1] == "service level: chat: costs $5"
    sens = section_of(r, "sensitivity")
    assert sens.title == "Sensitivity (±20% of each input)"
    assert sens.rows == [["demand", "$1", "optimal", "$2", "optimal", "low fleet, high variant"]]


def test_the_sensitivity_title_names_the_move_most_rows_share(stored: Report) -> None:
    """The efficiency factors moved by their held-out band (−27 %..+31 %: delta 0.31) listed first, two
    inputs by the scenario's ±20 %: the title says ±20 % and that a row may say otherwise (the efficiency
    row's label names its band); with every row at ±20 % it says only that."""
    def line_(name: str, delta: float) -> SensitivityLine:
        return SensitivityLine(input=name, delta=delta, cost_low_usd=1.0, cost_high_usd=2.0, low="$1", high="$2",
                               status_low="optimal", status_high="optimal", change_low="same", change_high="same",
                               decision_changes=False)

    assert stored.explanation is not None
    banded = [line_("efficiency factors (band)", 0.31), line_("demand", 0.2), line_("prices", 0.2)]
    e = stored.explanation.model_copy(update={"sensitivity": banded})
    assert section_of(stored.model_copy(update={"explanation": e}), "sensitivity").title == (
        "Sensitivity (±20% of each input, unless its row says otherwise)")
    e = stored.explanation.model_copy(update={"sensitivity": banded[1:]})
    assert section_of(stored.model_copy(update={"explanation": e}), "sensitivity").title == (
        "Sensitivity (±20% of each input)")


def test_the_slice_table_aligns_every_gpu_column(stored: Report) -> None:
    """Two elastic modes: hours, fixed GPUs, on-demand, spot (columns 2..5) are right-aligned."""
    row = SliceRow(index=0, clock="00-24", hours=list(range(24)), hours_per_cycle=24.0, classes=["c"],
                   fixed_gpus=2, elastic_gpus={"spot": 1, "on-demand": 3})
    s = section_of(stored.model_copy(update={"slices": [row]}), "slices")
    assert s.right == frozenset({2, 3, 4, 5}) and s.rows == [["0", "00-24", "24", "2", "3", "1", "c"]]


# ------------------------------------------------------------------------------------------------ layouts

HAND = Section("x", "T", lines=["a | b\nc"], headers=["h1", "h<2"], rows=[["1|2", "<b>&"]], right=frozenset({1}),
               notes=["n|m"])


def test_markdown_escapes_pipes_joins_lines_and_right_aligns_numbers() -> None:
    assert _md_section(HAND) == ["### T", "", "- a \\| b c", "", "| h1 | h<2 |", "|---|--:|", "| 1\\|2 | <b>& |",
                                 "", "n\\|m", ""]


def test_html_cells_are_escaped_and_numbers_right_aligned() -> None:
    assert _html_table(HAND) == '<table><tr><th>h1</th><th>h&lt;2</th></tr><tr><td>1|2</td><td class="r">&lt;b&gt;&amp;</td></tr></table>'


def test_the_html_page_escapes_text_and_places_each_chart_in_its_section(stored: Report,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """One h1 (the summary), escaped title and lines; the fleet chart sits in the fleet section, after its
    paragraphs and before its table."""
    monkeypatch.setattr(report_charts, "charts_for", lambda r: {"fleet": "<svg>F</svg>"})
    page = report_html(stored.model_copy(update={"title": "<x> & y", "warnings": ["a<b"], "reserve": ["b>a"]}))
    assert "<title>&lt;x&gt; &amp; y — whatif report</title>" in page
    assert page.count("<h1>") == 1 and '<section id="summary"><h1>&lt;x&gt; &amp; y</h1>' in page
    assert "<p>warning: a&lt;b</p>" in page and '<p class="muted">In reserve: b&gt;a</p>' in page
    assert '<section id="fleet"><h2>Fleet: GPUs in service by month</h2><figure id="fleet-chart"><svg>F</svg>' \
           '</figure><table>' in page


def test_the_terminal_report_opens_with_the_headline(stored: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary's title is the headline's first words: the table starts with the headline itself."""
    monkeypatch.setenv("COLUMNS", "100")
    assert report_table(stored).startswith(stored.headline[0] + "\n")


# ------------------------------------------------------------------------------------------------ charts

@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The charts return their matplotlib figures instead of SVG text; closed after the test."""
    drawn: list[Any] = []

    def keep(fig: Any) -> Any:
        drawn.append(fig)
        return fig

    monkeypatch.setattr(report_charts, "_svg", keep)
    monkeypatch.setattr(charts, "_svg", keep)
    yield drawn
    import matplotlib.pyplot as plt

    for fig in drawn:
        plt.close(fig)


def bars(ax: Any) -> list[tuple[float, float, float, float]]:
    """(x, width, bottom, height) of each bar, in drawing order."""
    return [tuple(round(v, 9) for v in (p.get_x(), p.get_width(), p.get_y(), p.get_height())) for p in ax.patches]


def test_the_fleet_chart_stacks_each_line_over_the_previous(stored: Report, figures: Any) -> None:
    """Months 0, 3, 6: bars 3 x 0.8 = 2.4 months wide from each month; the second line sits on the first."""
    r = stored.model_copy(update={"fleet_months": [0, 3, 6], "fleet": [FleetRow(hardware_mode="A", gpus=[4, 0, 2]),
                                                                         FleetRow(hardware_mode="B", gpus=[1, 2, 3])]})
    ax = report_charts.fleet_chart(r).axes[0]
    assert bars(ax) == [(0, 2.4, 0, 4), (3, 2.4, 0, 0), (6, 2.4, 0, 2), (0, 2.4, 4, 1), (3, 2.4, 0, 2), (6, 2.4, 2, 3)]
    single = stored.model_copy(update={"fleet_months": [0], "fleet": [FleetRow(hardware_mode="A", gpus=[4])]})
    assert bars(report_charts.fleet_chart(single).axes[0]) == [(0, 0.8, 0, 4)]
    # no fleet in months 3-8: bars stay a quarter wide (3 x 0.8), not as wide as the 9-month gap
    gap = stored.model_copy(update={"fleet_months": [0, 9, 12], "fleet": [FleetRow(hardware_mode="A", gpus=[1, 2, 3])]})
    assert [w for _, w, _, _ in bars(report_charts.fleet_chart(gap).axes[0])] == [2.4, 2.4, 2.4]


def test_the_fleet_chart_puts_busiest_slice_lines_hatched_on_top(stored: Report, figures: Any) -> None:
    """An elastic line held per time slice (its busiest slice's GPUs) listed first is drawn after the fixed
    line, on top of it, hatched and named in the title; without one there is no hatch and no such title."""
    elastic = FleetRow(hardware_mode="A spot, busiest slice", gpus=[5, 1], busiest_slice=True)
    r = stored.model_copy(update={"fleet_months": [0, 3], "fleet": [elastic, FleetRow(hardware_mode="B", gpus=[2, 2])]})
    ax = report_charts.fleet_chart(r).axes[0]
    assert bars(ax) == [(0, 2.4, 0, 2), (3, 2.4, 0, 2), (0, 2.4, 2, 5), (3, 2.4, 2, 1)]
    assert [p.get_hatch() for p in ax.patches] == [None, None, "//", "//"]
    assert "busiest time slice" in ax.get_title()
    fixed = report_charts.fleet_chart(stored.model_copy(update={
        "fleet_months": [0], "fleet": [FleetRow(hardware_mode="B", gpus=[2])]})).axes[0]
    assert [p.get_hatch() for p in fixed.patches] == [None] and "slice" not in fixed.get_title()


@pytest.mark.parametrize(("cycle", "word"), [(24, "day"), (168, "week")])
def test_the_slice_chart_stacks_elastic_modes_over_the_fixed_gpus(stored: Report, figures: Any, cycle: int,
                                                                  word: str) -> None:
    """Slice 0 holds the first half of the cycle (4 fixed + 2 on-demand), slice 1 the second (4 fixed + 1
    spot): fixed 4 every hour; on-demand 2 then 0 on top of 4; spot 0 then 1 on top of 4 + on-demand."""
    half = cycle // 2
    rows = [SliceRow(index=0, clock="a", hours=list(range(half)), hours_per_cycle=half, classes=[], fixed_gpus=4,
                     elastic_gpus={"on-demand": 2}),
            SliceRow(index=1, clock="b", hours=list(range(half, cycle)), hours_per_cycle=half, classes=[],
                     fixed_gpus=4, elastic_gpus={"spot": 1})]
    ax = report_charts.slice_chart(stored.model_copy(update={"slices": rows, "cycle_hours": cycle,
                                                             "slice_month": 9})).axes[0]
    drawn = bars(ax)
    assert len(drawn) == 3 * cycle
    fixed, on_demand, spot = drawn[:cycle], drawn[cycle:2 * cycle], drawn[2 * cycle:]
    assert all(b == (h, 1.0, 0, 4) for h, b in enumerate(fixed))
    assert [(b[2], b[3]) for b in on_demand] == [(4, 2)] * half + [(4, 0)] * half
    assert [(b[2], b[3]) for b in spot] == [(6, 0)] * half + [(4, 1)] * half
    assert ax.get_xlabel() == f"hour of the {word}"
    assert ax.get_title() == f"Fixed vs elastic capacity over the {word} (month 9)"


def test_the_cumulative_chart_is_in_millions_with_a_solid_crossover(figures: Any) -> None:
    """$0, $1.5M, $3M at months 0, 3, 6 against a $2M bill: line (0, 1.5, 3) M$, the bill at 2, the
    crossover marker at (4.0, 2) filled."""
    ax = report_charts.cumulative_chart(comparison(cumulative_serving_usd=[0.0, 1.5e6, 3e6], training_usd=2e6,
                                                   crossover_month=4.0)).axes[0]
    spend, bill, cross = ax.lines
    assert list(spend.get_xdata()) == [0.0, 3.0, 6.0] and list(spend.get_ydata()) == [0.0, 1.5, 3.0]
    assert list(bill.get_ydata()) == [2.0, 2.0]
    assert (list(cross.get_xdata()), list(cross.get_ydata())) == ([4.0], [2.0])
    assert cross.get_markerfacecolor() != "none" and cross.get_label() == "crossover: month 4.0"
    assert ax.get_ylabel() == "M$ (present value)"


def test_an_extrapolated_crossover_is_a_dotted_line_to_a_hollow_marker(figures: Any) -> None:
    """$1M by month 6 against $2M, crossing at month 8 past the horizon: dotted (6, 1) → (8, 2), hollow."""
    t = comparison(cumulative_serving_usd=[0.0, 0.5e6, 1e6], training_usd=2e6, crossover_month=8.0,
                   crossover_extrapolated=True)
    spend, bill, dotted, cross = report_charts.cumulative_chart(t).axes[0].lines
    assert (list(dotted.get_xdata()), list(dotted.get_ydata())) == ([6.0, 8.0], [1.0, 2.0])
    assert dotted.get_linestyle() == ":"
    assert cross.get_markerfacecolor() == "none" and cross.get_label() == "crossover: month 8.0 (extrapolated)"


def test_the_tornado_sorts_by_swing_and_draws_from_the_plans_cost(figures: Any) -> None:
    """Around $1M: 'b' swings 0.95-1.0M (0.05), 'a' 0.9-1.2M (0.3): 'b' first.  Each bar starts at 1.0 M$
    and runs to its end: b −0.05 and 0, a −0.1 and +0.2."""
    ax = charts.tornado_chart([("a", 0.9e6, 1.2e6), ("b", 0.95e6, 1.0e6)], 1e6).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    assert [(x, width) for x, width, _, _ in bars(ax)] == [(1.0, -0.05), (1.0, 0.0), (1.0, -0.1), (1.0, 0.2)]
    [center] = ax.lines
    assert list(center.get_xdata()) == [1.0, 1.0] and ax.get_xlabel() == "lifetime cost, M$ (present value)"


def test_the_report_charts_label_an_unproven_sensitivity_row(stored: Report, figures: Any) -> None:
    """Rows whose two ends are not both optimal carry their statuses; a row without a cost is not drawn."""
    assert stored.explanation is not None
    drawn = SensitivityLine(input="demand", delta=0.2, cost_low_usd=0.9e6, cost_high_usd=1.1e6, low="", high="",
                            status_low="feasible", status_high="optimal", change_low="same", change_high="same",
                            decision_changes=False)
    missing = drawn.model_copy(update={"input": "growth", "cost_low_usd": None})
    e = stored.explanation.model_copy(update={"sensitivity": [drawn, missing]})
    day = SliceRow(index=0, clock="00-24", hours=list(range(24)), hours_per_cycle=24.0, classes=[], fixed_gpus=2,
                   elastic_gpus={})
    out = report_charts.charts_for(stored.model_copy(update={"explanation": e, "lifetime_cost_usd": 1e6,
                                                             "slices": [day]}))
    assert set(out) == {"fleet", "slices", "training", "sensitivity"}
    assert [t.get_text() for t in out["sensitivity"].axes[0].get_yticklabels()] == ["demand (feasible/optimal)"]


def test_a_chart_is_inline_svg_without_a_prologue() -> None:
    assert charts.tornado_chart([("a", 0.9e6, 1.1e6)], 1e6).startswith("<svg")


# ------------------------------------------------------------------------------------------------ documents

def test_each_format_has_its_renderer() -> None:
    assert documents.RENDERERS == {"table": report_table, "markdown": report_markdown, "html": report_html}


def test_an_explanation_document_is_built_with_the_explanation(stored: Report,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(documents, "build_report", lambda *args: calls.append(args) or stored)
    e = SimpleNamespace(plan="the plan")
    assert documents.explanation_document("markdown", e, "sc", "cat", FIXED_TIME) == report_markdown(stored)  # type: ignore[arg-type]
    assert calls == [("the plan", "sc", "cat", e, FIXED_TIME)]


def preview_of(infeasible: list[Any]) -> SimpleNamespace:
    row = SimpleNamespace(workload="chat", hardware="h100-sxm", variant="quantization:fp8", tp=2, batch=64,
                          ttft_ms=512.4, tpot_ms=40.26, gpus=4, usd_per_hour=2.5, usd_per_million_output_tokens=0.1234)
    return SimpleNamespace(scenario="s", model="m", rows=[row], infeasible=infeasible, note="n", catalog_overlays=[])


def test_the_estimator_page_rows_and_what_is_not_feasible() -> None:
    """$2.50 an hour to cents, $0.123 per million output tokens to 3 places; a miss is escaped."""
    page = documents.preview_html(preview_of([SimpleNamespace(workload="chat", hardware="a<b", reason="x & y")]))
    assert ("<tr><td>chat</td><td>h100-sxm</td><td>fp8</td><td>2</td><td>64</td><td>512</td><td>40.3</td><td>4</td>"
            "<td>2.50</td><td>0.123</td></tr>") in page
    assert "<h2>Not feasible</h2><ul><li>chat on a&lt;b: x &amp; y</li></ul>" in page
    assert "Not feasible" not in documents.preview_html(preview_of([]))


# ------------------------------------------------------------------------------------------------ render, model

def test_money_is_whole_dollars_and_signed_money_has_a_plus_at_zero() -> None:
    assert money(1_234_567.89) == "$1,234,568" and money(None) == "-"
    assert signed_money(0.0) == "+$0" and signed_money(-5.0) == "−$5"
    assert money_interval(1.0, 2.0) == "[$1, $2]"
    # a negative figure carries its sign before the dollar, as signed_money writes it; -0.4 rounds to $0
    assert money(-50_000.0) == "−$50,000" and money(-0.4) == "$0" and money(-0.6) == "−$1"
    assert money_interval(-50_000.0, 20_000.0) == "[−$50,000, $20,000]"
    assert short_variant("quantization:fp8 + caching:prefix") == "fp8, prefix"
    assert overlay_line([]) == "" and overlay_line(["a", "b"]) == "catalog overlays: a, b\n"


def test_a_deployment_json_leaves_out_unset_optional_columns() -> None:
    assert not {"expert_parallel", "pools_tp"} & set(deployment().model_dump())
    assert {"expert_parallel": 4, "pools_tp": "2+4"}.items() <= deployment(expert_parallel=4, pools_tp="2+4").model_dump().items()


def test_a_report_without_a_cycle_is_daily(stored: Report) -> None:
    data = stored.model_dump()
    data.pop("cycle_hours")
    assert Report.model_validate(data).cycle_hours == 24


# ------------------------------------------------------------------------------------------------ provenance

def test_the_demand_and_horizon_inputs_as_printed(catalog: Catalog) -> None:
    """Each figure as the scenario gave it: grouped queries, tokens in before out, TTFT before TPOT, the tail
    target given (TPOT only), a fractional deadline, the floor per phase, a repeat rate in percent, months
    before the period, peak-to-average to 3 digits, an 8.5 % discount rate, a 2.5-point quality drop."""
    sc = scenario(workload={"queries_per_day": 1_234_567, "input_tokens": 800, "output_tokens": 200, "ttft_ms": 1500,
                            "tpot_ms": 80.5, "tpot_p99_ms": 120, "deadline_hours": 2.5, "min_replicas": 2,
                            "shared_prefix_tokens": 500, "repeat_rate": 0.25},
                  horizon={"months": 24, "period_months": 6, "peak_to_average": 1.35, "discount_rate_per_year": 0.085},
                  plan={"disaggregation": True}, quality={"max_drop": 2.5})
    values = {a.name: a.value for a in inputs(sc, catalog)}
    assert values["a: queries per day"] == "1,234,567"
    assert values["a: tokens per query"] == "800 in / 200 out"
    assert values["a: latency targets"] == "TTFT 1500 ms, TPOT 80.5 ms"
    assert values["a: tail targets"] == "TPOT P99 120 ms (a queueing model caps each replica's utilisation)"
    assert values["a: deferrable"] == "within 2.5 h of arrival (FIFO, served in any time slice)"
    assert values["a: minimum replicas"] == "2 in every period and slice (prefill and decode each, with plan.disaggregation)"
    assert values["a: shared prefix, repeat rate"] == "500 tokens, 25%"
    assert values["horizon"] == "24 months in periods of 6"
    assert values["peak to average"] == "1.35, provisioned all day"
    assert values["discount rate"] == "8.5% per year"
    assert values["quality floor"].startswith("mmlu: at most 2.5 points below the base model")
    assert values["time slices"].startswith("at most ")  # a deferrable class brings time slices


def test_the_quality_floor_is_a_schema_default_unless_given(catalog: Catalog) -> None:
    [row] = [a for a in inputs(scenario(), catalog) if a.name == "quality floor"]
    assert row.source == "default (scenario schema)"
    [shaped] = [a for a in inputs(scenario(workload={"profile": [1.0] * 24}), catalog) if a.name == "peak to average"]
    assert shaped.value == "from the daily profiles (time slices)"
    [offered] = [a for a in inputs(scenario(market={"hardware": None}), catalog) if a.name == "hardware offered"]
    assert offered.value == "every catalog entry"


def test_the_economics_inputs_the_scenario_gives(catalog: Catalog) -> None:
    """Spot discount 0.65 → 65 %, PUE 1.25 as written, operations 0.05 → 5 % of capex, a reserved discount of
    0.3 → 30.0 % off (not its complement 70 %); each from the scenario."""
    sc = scenario(market={"modes": ["on-demand", "spot", "buy", "reserved-1y"], "spot_discount": 0.65, "pue": 1.25,
                          "operations_fraction_per_year": 0.05, "reserved_discount": {"reserved-1y": 0.3}})
    rows = {a.name: a for a in inputs(sc, catalog)}
    assert rows["spot discount"].value == "65% below on-demand (where no spot row)"
    assert rows["PUE"].value == "1.25" and rows["PUE"].source == "scenario"
    assert rows["operations overhead"].value == "5% of capex per year"
    assert rows["reserved-1y discount"].value.startswith("30.0% off on-demand")
    assert rows["electricity"].source.startswith("catalog default electricity_usd_per_kwh: ")


def test_one_price_per_hardware_mode_and_provider(catalog: Catalog) -> None:
    """Two fleet lines of lambda's on-demand h100-sxm (two periods) are one price row: $2.99."""
    fleet = [SimpleNamespace(hardware="h100-sxm", mode="on-demand", provider="lambda")] * 2
    [price] = prices_used(SimpleNamespace(fleet=fleet), scenario(), catalog)  # type: ignore[arg-type]
    assert price.price == "$2.99 per GPU-hour"


def test_an_owned_gpu_without_a_platform_prints_its_card_price(catalog: Catalog, tmp_path: Path) -> None:
    """An overlay prices an l4 to buy at $2,500.40 (the catalog has no l4 platform, so no all-in figure):
    the card price in whole dollars, $2,500."""
    assert "l4" not in catalog.platforms
    overlay = tmp_path / "l4.toml"
    overlay.write_text('schema_version = 1\n\n[[price]]\nhardware = "l4"\nmode = "buy"\nusd_per_gpu = 2500.4\n'
                       'provider = "hand-shop"\nprovider_kind = "vendor"\nsource = "hand made"\n'
                       'source_date = "2026-02-01"\n', encoding="utf-8")
    fleet = [SimpleNamespace(hardware="l4", mode="buy", provider="hand-shop")]
    [price] = prices_used(SimpleNamespace(fleet=fleet), scenario(market={"modes": ["buy"]}),  # type: ignore[arg-type]
                          planner.load_catalogs([str(overlay)], use_env=False))
    assert (price.price, price.provider, price.source_date) == ("$2,500 per GPU", "hand-shop", "2026-02-01")


def test_the_plot_extra_is_required_only_when_matplotlib_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    charts.require_plot_extra("--plot")  # installed here: no refusal
    monkeypatch.setattr(charts.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(charts.PlotExtraMissing):
        charts.require_plot_extra("--plot")


def test_the_estimator_markdown_right_aligns_numbers_and_lists_misses() -> None:
    """Text columns (class, hardware, techniques) left, the seven figures right; each miss a bullet."""
    text = preview_markdown(preview_of([SimpleNamespace(workload="chat", hardware="l4", reason="too small")]))  # type: ignore[arg-type]
    assert "|---|---|---|--:|--:|--:|--:|--:|--:|--:|" in text
    assert "| chat | h100-sxm | fp8 | 2 | 64 | 512 | 40.3 | 4 | 2.50 | 0.123 |" in text
    assert text.endswith("Not feasible:\n\n- `chat` on `l4`: too small\n")


def test_a_training_job_without_a_price_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    job = SimpleNamespace(flops=1e20, note="6·N·D", hardware="gaudi3", dtype="bf16", peak_tflops=1835.0, mfu=0.4,
                          gpu_hours=37_851.0, cost_usd=None, price_usd_per_gpu_hour=None, price_source="",
                          catalog_overlays=[])
    text = training_table(job)  # type: ignore[arg-type]
    assert "no on-demand price in the catalog" in text and "37,851" in text
