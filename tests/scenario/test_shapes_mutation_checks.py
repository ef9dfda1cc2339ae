"""Behaviour pinned where a mutation review of ``planner/scenario/shapes.py``, ``planner/plan_model.py``,
``planner/api.py`` and ``planner/units.py`` found it unchecked.

* shapes: a ``[buckets]`` class at exactly the per-class volume bound (``MAX_QUERIES_PER_DAY`` = 1e13
  queries a day, ``Workload.queries_per_day`` is ``le=``) is accepted, the next float refused.
* plan_model: the plan's JSON (defaults, keys written only when they apply, the computed
  ``bound_usd = lifetime × (1 − gap)``), ``tp_label`` and ``plan_status``.  Plans are built by hand
  from a small dict: nothing here solves.
* api: argument handling, defaults and error paths of the public functions, with the expensive
  work (``plan_scenario``, ``explain``, ``breakeven``, ``sweep``, ``preview``, the roofline
  ``estimate``, ``price_training``) replaced by a recorder of its arguments.
* units: the true constants, written out from their definitions.
"""

from __future__ import annotations

import importlib
import json
import math
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

import planner
from planner import units
from planner.errors import InputError
from planner.plan_model import (
    PLAN_SCHEMA_VERSION,
    CostBreakdown,
    FleetEntry,
    Plan,
    PoolUse,
    ServedBy,
    TimeSlice,
    open_bound,
    plan_status,
    proven_bound,
    tp_label,
)
from planner.scenario.shapes import Buckets

api = importlib.import_module("planner.api")  # the module (``planner.api`` the attribute may be shadowed)


# ---------------------------------------------------------------------------------------------- shapes


def _buckets(share: float, rate: float) -> dict[str, Any]:
    """One input range (1-100) by one output range (1-50): a single class of ``share × rate × 86 400``."""
    return {"input_edges": [1, 100], "output_edges": [1, 50], "shares": [[share]], "total_rate_rps": rate,
            "ttft_ms": 1000.0, "tpot_ms": 50.0}


def test_a_bucket_class_at_exactly_the_volume_bound_is_accepted_and_one_float_past_it_refused() -> None:
    """A class holds at most 1e13 queries a day (``Workload.queries_per_day`` ``le=1e13``), so the table
    refuses only a share over it.  1e13 / 86 400 s / 1e8 req/s = 1.157407407…: with the float
    ``1.1574074074074074`` the product ``share × 1e8 × 86 400`` rounds to exactly 1e13 (checked below,
    in the order the module multiplies), which is at the bound and accepted; the next float up is past it."""
    rate = 1e8
    share = 1.1574074074074074
    assert share * rate * units.SECONDS_PER_DAY == 1e13
    table = Buckets.model_validate(_buckets(share, rate))
    assert table.classes()[0]["queries_per_day"] == 1e13
    over = math.nextafter(share, math.inf)
    assert over * rate * units.SECONDS_PER_DAY > 1e13
    with pytest.raises(ValidationError, match="queries a day; a class holds at most 1e\\+13"):
        Buckets.model_validate(_buckets(over, rate))


# ------------------------------------------------------------------------------------------ plan_model


def _plan(**over: Any) -> dict[str, Any]:
    """The required keys of a Plan: an optimal plan of 1000 USD with no fleet, serving or solver."""
    out: dict[str, Any] = {
        "scenario": "s", "model": "m", "status": "optimal", "message": "", "lifetime_cost_usd": 1000.0,
        "one_time_cost_usd": 0.0, "recurring_cost_usd": 1000.0, "cost_breakdown": None, "training_cost_usd": None,
        "training_share_of_total": None, "inference_overtakes_training_month": None, "variant": None,
        "variants": [], "variant_names": [], "fleet": [], "serving": [], "classes": [],
        "cost_per_million_queries_usd": None, "total_queries": 0.0, "periods": 1, "period_months": 3,
        "solver": None, "infeasibility": [], "exclusions": {}, "warnings": []}
    out.update(over)
    return out


def _solver(gap: float | None) -> dict[str, Any]:
    return {"name": "highs", "status": "feasible", "gap": gap, "message": "", "variables": 1, "constraints": 1,
            "integer_variables": 0, "pruning": {}, "coefficient_min": 1.0, "coefficient_max": 1.0}


def test_a_plan_s_defaults_as_the_module_docstring_and_field_notes_state() -> None:
    """schema_version 2, kind "plan", ``terminal_value`` annuity (its settlement 0.0), no tokens figure
    (None, not 0), empty time slices, spend lists, timings and trace."""
    plan = Plan.model_validate(_plan())
    assert PLAN_SCHEMA_VERSION == 2
    assert (plan.schema_version, plan.kind, plan.terminal_value) == (2, "plan", "annuity")
    assert plan.horizon_end_settlement_usd == 0.0
    assert plan.cost_per_million_tokens_usd is None
    assert plan.discounted_queries is None and plan.discounted_tokens is None
    assert plan.time_slices == [] and plan.spend_by_period_usd == [] and plan.discounted_spend_by_period_usd == []
    assert plan.timings == {} and plan.trace == {} and plan.catalog_overlays == []
    data = json.loads(plan.model_dump_json())
    assert data["schema_version"] == 2 and data["kind"] == "plan" and data["cost_per_million_tokens_usd"] is None


def test_a_plan_is_frozen() -> None:
    plan = Plan.model_validate(_plan())
    with pytest.raises(ValidationError):
        plan.status = "error"  # type: ignore[misc]
    entry = FleetEntry(period=0, month_start=0, hardware="h100-sxm", mode="rent", gpus_in_service=8, gpus_acquired=8)
    with pytest.raises(ValidationError):
        entry.gpus_in_service = 9  # type: ignore[misc]


def test_the_bound_of_a_plan_stopped_at_a_limit_is_lifetime_times_one_minus_gap() -> None:
    """Feasible at 1000 USD with a 25 % gap: the optimum lies in [1000 × (1 − 0.25), 1000] = [750, 1000].
    The bound is a computed field: it is written to the JSON (``null`` for a proven optimum)."""
    stopped = Plan.model_validate(_plan(status="feasible", solver=_solver(0.25)))
    assert stopped.bound_usd == 750.0 and open_bound(stopped) == 750.0
    assert json.loads(stopped.model_dump_json())["bound_usd"] == 750.0
    assert stopped.model_dump()["bound_usd"] == 750.0
    proven = Plan.model_validate(_plan(status="optimal", solver=_solver(0.0)))
    assert proven.bound_usd is None
    dumped = json.loads(proven.model_dump_json())
    assert "bound_usd" in dumped and dumped["bound_usd"] is None


@pytest.mark.parametrize(("cost", "status", "gap", "bound"), [
    (1000.0, "feasible", 0.25, 750.0),       # 1000 × 0.75
    (2000.0, "feasible", 0.0, 2000.0),       # a zero gap on a plan not called optimal: the cost itself
    (1000.0, "optimal", 0.25, None),         # proven: no interval whatever the gap says
    (None, "feasible", 0.25, None),          # no cost
    (1000.0, "feasible", None, None),        # no gap reported
    (400.0, "no_solution", 0.5, 200.0),      # any status but optimal with a cost and a gap: 400 × 0.5
])
def test_proven_bound(cost: float | None, status: str, gap: float | None, bound: float | None) -> None:
    assert proven_bound(cost, status, gap) == bound


def test_open_bound_reads_the_solver_s_gap_and_none_without_a_solver() -> None:
    assert open_bound(Plan.model_validate(_plan(status="feasible", solver=_solver(0.1)))) == pytest.approx(900.0)
    assert open_bound(Plan.model_validate(_plan(status="feasible", solver=None))) is None
    assert open_bound(Plan.model_validate(_plan(status="feasible", solver=_solver(None)))) is None


def test_plan_status_accepts_the_five_statuses_and_refuses_others() -> None:
    for status in ("optimal", "feasible", "infeasible", "no_solution", "error"):
        assert plan_status(status) == status
    for bad in ("cutoff", "Optimal", ""):
        with pytest.raises(ValueError, match="not a plan status"):
            plan_status(bad)


@pytest.mark.parametrize(("gpus", "ep", "label"), [
    (8, None, "TP8"),
    (8, 1, "TP8"),        # E_p = 1 is no expert parallelism: no ×EP1
    (8, 4, "TP2×EP4"),    # 8 GPUs = TP 2 × E_p 4
    (16, 8, "TP2×EP8"),
    (4, 4, "TP1×EP4"),
])
def test_tp_label(gpus: int, ep: int | None, label: str) -> None:
    assert tp_label(gpus, ep) == label


def test_a_pool_writes_expert_parallel_only_when_set() -> None:
    plain = PoolUse(hardware="h100-sxm", tp=2, batch=64, replicas=3)
    assert plain.model_dump() == {"hardware": "h100-sxm", "tp": 2, "batch": 64, "replicas": 3}
    assert plain.parallelism == "TP2"
    spread = PoolUse(hardware="h100-sxm", tp=8, batch=64, replicas=1, expert_parallel=4)
    assert spread.model_dump()["expert_parallel"] == 4
    assert spread.parallelism == "TP2×EP4"  # 8 GPUs / 4


def _served(**over: Any) -> ServedBy:
    raw: dict[str, Any] = {"period": 0, "workload": "chat", "variant": "base", "hardware": "h100-sxm", "tp": 1,
                           "batch": 32, "replicas": 2, "gpus": 2, "traffic_share": 1.0, "ttft_ms": 100.0,
                           "tpot_ms": 20.0, "quality_score": None}
    raw.update(over)
    return ServedBy.model_validate(raw)


def test_a_co_located_line_keeps_its_json_without_pool_ep_or_block_keys() -> None:
    line = _served()
    data = line.model_dump()
    for key in ("prefill", "decode", "link", "link_utilisation", "expert_parallel", "scale_up_domains", "unit_blocks"):
        assert key not in data, key
    assert data["measured"] is False and data["slice"] is None
    assert not line.disaggregated and line.parallelism == "TP1"


def test_a_disaggregated_line_writes_its_pools_link_and_blocks_only_over_an_intra_node_link() -> None:
    """Over an inter-node link (no ``scale_up_domains``) both block keys are left out; over an intra-node
    link both are written.  ``link_utilisation`` is one of the pool keys."""
    pools = {"prefill": PoolUse(hardware="h100-sxm", tp=1, batch=8, replicas=1),
             "decode": PoolUse(hardware="l4", tp=2, batch=64, replicas=2)}
    free = _served(hardware="h100-sxm+l4", tp=2, batch=64, replicas=3, gpus=5, link="ib-400", link_utilisation=0.25,
                   **pools)
    data = free.model_dump()
    assert free.disaggregated
    assert data["link"] == "ib-400" and data["link_utilisation"] == 0.25
    assert data["prefill"] == {"hardware": "h100-sxm", "tp": 1, "batch": 8, "replicas": 1}
    assert "scale_up_domains" not in data and "unit_blocks" not in data
    blocks = _served(hardware="h100-sxm+h100-sxm", link="nvlink", link_utilisation=0.5, scale_up_domains=1,
                     unit_blocks=2, **pools)
    data = blocks.model_dump()
    assert (data["scale_up_domains"], data["unit_blocks"]) == (1, 2)


def test_a_line_with_unit_blocks_but_no_domains_writes_neither() -> None:
    """The block keys are dropped together, on ``scale_up_domains`` (the servers the pools take)."""
    data = _served(unit_blocks=2).model_dump()
    assert "unit_blocks" not in data and "scale_up_domains" not in data


def test_a_line_is_disaggregated_only_with_both_pools() -> None:
    pool = PoolUse(hardware="h100-sxm", tp=1, batch=8, replicas=1)
    assert not _served(prefill=pool).disaggregated
    assert not _served(decode=pool).disaggregated
    assert _served(prefill=pool, decode=pool).disaggregated


def test_an_expert_parallel_line_writes_its_ep_and_labels_its_replica() -> None:
    line = _served(tp=8, expert_parallel=4)
    assert line.model_dump()["expert_parallel"] == 4 and line.parallelism == "TP2×EP4"


def test_fleet_cost_and_slice_defaults() -> None:
    """No spares, provider or price source unless given; a fleet line holds all day (``slice`` None);
    spot restarts cost 0 without time slices; a slice without per-period split has an empty list."""
    entry = FleetEntry(period=0, month_start=0, hardware="h100-sxm", mode="rent", gpus_in_service=8, gpus_acquired=8)
    assert (entry.spare_gpus, entry.provider, entry.price_source, entry.slice) == (0.0, "", "", None)
    parts = {k: 1.0 for k in ("one_time_usd", "rent_usd", "reserved_usd", "capex_usd", "server_usd", "network_usd",
                              "energy_usd", "hosting_usd", "operations_usd", "residual_credit_usd",
                              "technique_recurring_usd")}
    assert CostBreakdown(**parts).spot_restart_usd == 0.0
    ts = TimeSlice(index=0, hours_per_cycle=24.0, cycle_hours=24, clock="00-24", hours=list(range(24)),
                   peak_by_class={}, arrivals_by_class={}, served_by_class={})
    assert ts.served_by_period == []


# ------------------------------------------------------------------------------------------------- api


class Recorder:
    """Stands in for an expensive function: records its arguments, returns a marker."""

    def __init__(self, result: Any = "result") -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.result = result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.result


@pytest.fixture(scope="module")
def demo() -> planner.Scenario:
    return planner.load_scenario(planner.demo_scenario_path())


CATALOG = SimpleNamespace(name="a catalog")  # any object: the api passes it on untouched


def test_the_demo_scenario_is_the_packaged_toml() -> None:
    path = planner.demo_scenario_path()
    assert path.name == "demo.toml" and path.parent.name == "data" and path.is_file()


@pytest.mark.parametrize("bad", ["workload.chat.tpot_ms=0.2", b"workload.chat.tpot_ms=0.2"])
def test_one_bare_override_string_is_refused_with_what_to_write(bad: Any) -> None:
    with pytest.raises(InputError) as err:
        api._override_list(bad)
    assert err.value.field == "overrides" and "e.g. [" in err.value.reason


def test_overrides_may_be_any_iterable_of_strings_but_only_strings() -> None:
    assert api._override_list(("a=1", "b=2")) == ["a=1", "b=2"]
    assert api._override_list(x for x in ["a=1"]) == ["a=1"]
    assert api._override_list(()) == []
    with pytest.raises(InputError) as err:
        api._override_list(["a=1", 3])  # type: ignore[list-item]
    assert err.value.field == "overrides"


def test_load_scenario_passes_its_overrides_as_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setattr(api, "_load_scenario", rec)
    assert planner.load_scenario("x.toml", ("a=1",)) == "result"
    assert rec.calls == [(("x.toml", ["a=1"]), {})]
    with pytest.raises(InputError):
        planner.load_scenario("x.toml", "a=1")  # type: ignore[arg-type]
    assert len(rec.calls) == 1


def test_a_given_catalog_is_used_and_the_default_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = Recorder(SimpleNamespace(name="default"))
    monkeypatch.setattr(api, "_load_catalogs", loads)
    monkeypatch.setattr(api, "_DEFAULT_CATALOG", None)
    assert api._catalog(CATALOG) is CATALOG and loads.calls == []
    first = api._catalog(None)
    assert first is loads.result and api._catalog(None) is first
    assert len(loads.calls) == 1


def test_plan_applies_overrides_to_a_path_and_to_a_scenario(monkeypatch: pytest.MonkeyPatch,
                                                            demo: planner.Scenario) -> None:
    """``plan(path, overrides=…)`` and ``plan(Scenario, overrides=…)`` plan the same overridden scenario; a
    Scenario without overrides is planned as given (the same object)."""
    from planner.optimize import planning

    rec = Recorder()
    monkeypatch.setattr(planning, "plan_scenario", rec)
    assert planner.plan(demo, catalog=CATALOG) == "result"  # type: ignore[arg-type]
    (scenario, catalog), _ = rec.calls[-1]
    assert scenario is demo and catalog is CATALOG
    planner.plan(demo, catalog=CATALOG, overrides=["workload.chat.tpot_ms=42"])  # type: ignore[arg-type]
    assert rec.calls[-1][0][0].workload[0].tpot_ms == 42.0
    assert demo.workload[0].tpot_ms != 42.0  # the caller's scenario is left as it was
    planner.plan(planner.demo_scenario_path(), catalog=CATALOG, overrides=["workload.chat.tpot_ms=43"])  # type: ignore[arg-type]
    assert rec.calls[-1][0][0].workload[0].tpot_ms == 43.0


def test_estimate_defaults_and_passes_every_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setattr(api, "_estimate", rec)
    planner.estimate("m", "hw", input_tokens=100, output_tokens=10, catalog=CATALOG)  # type: ignore[arg-type]
    args, kw = rec.calls[-1]
    assert args == ("m", "hw")
    assert kw == {"catalog": CATALOG, "precision": "bf16", "kv_precision": None, "tp": 1, "batch": None,
                  "input_tokens": 100, "output_tokens": 10, "gpus": None, "draft": None, "acceptance_rate": None,
                  "draft_tokens": None, "engine": None}
    planner.estimate("m", "hw", precision="fp8", kv_precision="fp8-kv", tp=2, batch=16, input_tokens=1,
                     output_tokens=2, gpus=4, draft="d", acceptance_rate=0.7, draft_tokens=3, catalog=CATALOG,  # type: ignore[arg-type]
                     engine="vllm")
    args, kw = rec.calls[-1]
    assert kw == {"catalog": CATALOG, "precision": "fp8", "kv_precision": "fp8-kv", "tp": 2, "batch": 16,
                  "input_tokens": 1, "output_tokens": 2, "gpus": 4, "draft": "d", "acceptance_rate": 0.7,
                  "draft_tokens": 3, "engine": "vllm"}


def test_preview_uses_the_given_catalog(monkeypatch: pytest.MonkeyPatch, demo: planner.Scenario) -> None:
    from planner.insight import preview

    from planner.optimize import candidates, input_checks

    cs = SimpleNamespace(hardware=["hw"])
    rec, built, checked = Recorder(), Recorder(cs), Recorder(None)
    monkeypatch.setattr(preview, "preview", rec)
    monkeypatch.setattr(candidates, "build_candidates", built)
    monkeypatch.setattr(input_checks, "check_before_model", checked)
    assert planner.preview(demo, catalog=CATALOG) == "result"  # type: ignore[arg-type]
    assert built.calls == [((demo, CATALOG), {})]
    assert checked.calls == [((demo, CATALOG, ["hw"]), {})]  # the plan's refusals first, on the same catalog
    assert rec.calls == [((demo, CATALOG, cs), {})]


@pytest.fixture
def explain_rec(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    from planner.insight import explanation

    rec = Recorder()
    monkeypatch.setattr(explanation, "explain", rec)
    return rec


def test_explain_defaults(explain_rec: Recorder, demo: planner.Scenario) -> None:
    """Three alternatives, a ±20 % sensitivity and the default worker count (the machine's cores, at most 4)."""
    from planner.insight.resolve import DEFAULT_WORKERS

    planner.explain(demo, catalog=CATALOG)  # type: ignore[arg-type]
    (scenario, catalog), kw = explain_rec.calls[-1]
    assert scenario is demo and catalog is CATALOG
    assert kw == {"alternatives": 3, "sensitivity_delta": 0.2, "workers": DEFAULT_WORKERS}
    planner.explain(demo, catalog=CATALOG, alternatives=0, sensitivity_delta=None, workers=1)  # type: ignore[arg-type]
    assert explain_rec.calls[-1][1] == {"alternatives": 0, "sensitivity_delta": None, "workers": 1}


@pytest.mark.parametrize(("kw", "field"), [
    ({"alternatives": -1}, "alternatives"),
    ({"alternatives": 11}, "alternatives"),  # at most MAX_ALTERNATIVES = 10, as the CLI's --alternatives
    ({"alternatives": True}, "alternatives"),   # a bool is no count
    ({"alternatives": 2.0}, "alternatives"),
    ({"sensitivity_delta": 0.0}, "sensitivity_delta"),   # (0, 0.9]: 0 is out
    ({"sensitivity_delta": math.nextafter(0.9, 1.0)}, "sensitivity_delta"),
    ({"sensitivity_delta": -0.1}, "sensitivity_delta"),
    ({"workers": 0}, "workers"),
    ({"workers": True}, "workers"),
    ({"workers": 2.0}, "workers"),
])
def test_explain_refuses_bad_arguments_before_any_work(kw: dict[str, Any], field: str, explain_rec: Recorder,
                                                       demo: planner.Scenario) -> None:
    with pytest.raises(InputError) as err:
        planner.explain(demo, catalog=CATALOG, **kw)  # type: ignore[arg-type]
    assert err.value.field == field
    assert explain_rec.calls == []


def test_explain_accepts_arguments_at_their_bounds(explain_rec: Recorder, demo: planner.Scenario) -> None:
    """alternatives 0 and 10, sensitivity 0.9 (``MAX_SENSITIVITY_DELTA``, inclusive), workers 1."""
    planner.explain(demo, catalog=CATALOG, alternatives=0, sensitivity_delta=0.9, workers=1)  # type: ignore[arg-type]
    assert explain_rec.calls[-1][1] == {"alternatives": 0, "sensitivity_delta": 0.9, "workers": 1}
    planner.explain(demo, catalog=CATALOG, alternatives=10)  # type: ignore[arg-type]
    assert explain_rec.calls[-1][1]["alternatives"] == 10


def test_breakeven_passes_the_option_and_what_it_is_over(monkeypatch: pytest.MonkeyPatch,
                                                         demo: planner.Scenario) -> None:
    from planner.insight import break_even

    rec = Recorder()
    monkeypatch.setattr(break_even, "breakeven", rec)
    planner.breakeven(demo, "quantization:fp8", over="queries", catalog=CATALOG)  # type: ignore[arg-type]
    assert rec.calls[-1] == ((demo, CATALOG, "quantization:fp8", "queries"), {})
    planner.breakeven(demo, "quantization:fp8", catalog=CATALOG)  # type: ignore[arg-type]
    assert rec.calls[-1] == ((demo, CATALOG, "quantization:fp8", None), {})


def test_sweep_defaults_and_passes_every_argument(monkeypatch: pytest.MonkeyPatch, demo: planner.Scenario) -> None:
    from planner.insight import sweeps

    rec = Recorder()
    monkeypatch.setattr(sweeps, "sweep", rec)
    planner.sweep(demo)
    assert rec.calls[-1] == ((demo,), {"vary": None, "zip_axes": False, "samples": None, "seed": 0, "workers": 1,
                                       "executor": None, "output": None, "resume": False})
    planner.sweep(demo, vary={"a": "1,2"}, zip_axes=True, samples=5, seed=7, workers=2, executor="process",
                  output="o.jsonl", resume=True)
    assert rec.calls[-1] == ((demo,), {"vary": {"a": "1,2"}, "zip_axes": True, "samples": 5, "seed": 7, "workers": 2,
                                       "executor": "process", "output": "o.jsonl", "resume": True})


@pytest.fixture
def priced(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(api, "price_training", rec)
    monkeypatch.setattr(api, "resolve_model", lambda model, cat: SimpleNamespace(params_active=8e9))
    return rec


def test_training_cost_of_params_is_six_n_d(priced: Recorder) -> None:
    """6 × 7e9 params × 1e12 tokens = 4.2e22 FLOPs; dtype bf16 and the hardware's MFU by default."""
    planner.training_cost(tokens=1e12, hardware="h100-sxm", params=7e9, catalog=CATALOG)  # type: ignore[arg-type]
    (flops,), kw = priced.calls[-1]
    assert flops == pytest.approx(4.2e22, rel=1e-12)
    assert kw == {"hardware": "h100-sxm", "catalog": CATALOG, "mfu": None, "dtype": "bf16", "params": 7e9,
                  "tokens": 1e12, "note": "6*N_active*D"}


def test_training_cost_of_a_mixture_counts_its_active_params(priced: Recorder) -> None:
    """47e9 total, 13e9 active: 6 × 13e9 × 2e12 = 1.56e23; mfu and dtype passed on."""
    planner.training_cost(tokens=2e12, hardware="h100-sxm", params=47e9, active_params=13e9, mfu=0.4,  # type: ignore[arg-type]
                          dtype="fp8", catalog=CATALOG)
    (flops,), kw = priced.calls[-1]
    assert flops == pytest.approx(1.56e23, rel=1e-12)
    assert (kw["params"], kw["mfu"], kw["dtype"]) == (13e9, 0.4, "fp8")
    planner.training_cost(tokens=1.0, hardware="h", params=5.0, active_params=5.0, catalog=CATALOG)  # type: ignore[arg-type]
    assert priced.calls[-1][1]["params"] == 5.0  # active = total is allowed


def test_training_cost_of_a_model_uses_its_active_params_and_names_it(priced: Recorder) -> None:
    """The stubbed model has 8e9 active parameters: 6 × 8e9 × 1e12 = 4.8e22."""
    planner.training_cost(tokens=1e12, hardware="h100-sxm", model="llama-3.1-8b", catalog=CATALOG)  # type: ignore[arg-type]
    (flops,), kw = priced.calls[-1]
    assert flops == pytest.approx(4.8e22, rel=1e-12)
    assert kw["params"] == 8e9 and kw["note"] == "6*N_active*D with N_active of llama-3.1-8b"


@pytest.mark.parametrize(("kw", "field"), [
    ({"tokens": 1e12}, "model"),                                       # neither model nor params
    ({"tokens": 1e12, "model": "llama-3.1-8b", "params": 7e9}, "model"),  # both
    ({"tokens": 1e12, "model": "llama-3.1-8b", "active_params": 1e9}, "active_params"),
    ({"tokens": 1e12, "params": 7e9, "active_params": 8e9}, "active_params"),  # more active than total
    ({"tokens": 1e12, "params": 7e9, "active_params": 0.0}, "active_params"),
    ({"tokens": 1e12, "params": 7e9, "dtype": "fp3"}, "dtype"),
    ({"tokens": 0.0, "params": 7e9}, "tokens"),
    ({"tokens": math.nextafter(1e16, math.inf), "params": 7e9}, "tokens"),
    ({"tokens": 1e12, "params": math.nextafter(1e14, math.inf)}, "params"),
    ({"tokens": 1e12, "params": -1.0}, "params"),
    ({"tokens": 1e12, "params": 0.0}, "params"),   # no parameters: nothing to train (not read as 1)
])
def test_training_cost_refuses_bad_arguments_naming_them(kw: dict[str, Any], field: str, priced: Recorder) -> None:
    with pytest.raises(InputError) as err:
        planner.training_cost(hardware="h100-sxm", catalog=CATALOG, **kw)  # type: ignore[arg-type]
    assert err.value.field == field
    assert priced.calls == []


def test_training_cost_accepts_tokens_and_params_at_their_bounds(priced: Recorder) -> None:
    """tokens ≤ 1e16 and N_active ≤ 1e14, both inclusive: 6 × 1e14 × 1e16 = 6e30 FLOPs."""
    planner.training_cost(tokens=1e16, hardware="h", params=1e14, catalog=CATALOG)  # type: ignore[arg-type]
    assert priced.calls[-1][0][0] == pytest.approx(6e30, rel=1e-12)


# ----------------------------------------------------------------------------------------------- units


def test_unit_constants_from_their_definitions() -> None:
    assert units.BITS_PER_BYTE == 8.0
    assert units.BYTES_PER_GB == 1_000_000_000.0  # decimal, as vendors quote
    assert units.BYTES_PER_MIB == 1_048_576.0  # 1024 × 1024
    assert units.FLOPS_PER_TFLOP == 1e12
    assert units.MS_PER_SECOND == 1000.0
    assert units.SECONDS_PER_HOUR == 60.0 * 60.0
    assert units.SECONDS_PER_DAY == 24.0 * 3600.0
    assert units.US_PER_SECOND == 1e6
    assert units.FLOPS_PER_MAC == 2.0
    assert units.TRAINING_FLOPS_PER_PARAM_TOKEN == 6.0 and units.FORWARD_FLOPS_PER_PARAM_TOKEN == 2.0
    assert units.TOKENS_PER_MILLION == 1e6
    assert units.DAYS_PER_YEAR == 365.25 and units.MONTHS_PER_YEAR == 12.0
    assert units.DAYS_PER_MONTH == pytest.approx(30.4375, rel=1e-15)  # 365.25 / 12
    assert units.HOURS_PER_MONTH == pytest.approx(730.5, rel=1e-15)  # 30.4375 × 24
    assert units.WATTS_PER_KW == 1000.0
