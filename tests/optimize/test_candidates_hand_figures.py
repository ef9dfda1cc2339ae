"""Hand-checked figures of the candidate table, the variants, the infeasibility diagnosis and the plan's
read-back, for the rules a mutation review found unchecked (:mod:`planner.optimize.candidates`,
:mod:`planner.optimize.variants`, :mod:`planner.optimize.infeasibility`, :mod:`planner.optimize.extract`).

The scenario behind most tests is one class of 100 + 100 tokens on Llama-3.1-8B in BF16 on H100-SXM
(an 8-GPU NVLink domain): TP 1, 2, 4, 8 × the batch ladder 1, 2, …, 512 and "largest that fits" = 4 × 11
= 44 deployment rows.  Each row's figures are checked against :func:`planner.estimate` of the same
deployment (the estimator's own path), every count and boundary against the arithmetic written in the
test.  Nothing is copied from the code under test."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.errors import ScenarioError
from planner.optimize.candidates import CandidateSet, build_candidates
from planner.optimize.infeasibility import latency_and_quality_checks
from planner.optimize.planning import plan_scenario
from planner.physics.queueing import ReplicaQueue, max_utilisation
from planner.units import DAYS_PER_MONTH
from techniques.base import Effect, Option, OptionInfo, OptionSet, TechniqueSettings
from techniques.registry import Registry, default_registry

#: Every built-in technique held at ``none``: the baseline variant only.
NONE = {t: ["none"] for t in ("swap", "distillation", "moe", "quantization", "kv_quantization", "caching",
                              "speculative")}
#: Batch ladder 2^0 … 2^9, then 0 = "largest that fits".
LADDER = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 0]
#: TP degrees within H100-SXM's 8-GPU scale-up domain.
H100_TPS = [1, 2, 4, 8]


def scenario(workload: dict[str, Any] | None = None, market: dict[str, Any] | None = None,
             model: str = "llama-3.1-8b", techniques: dict[str, list[str]] | None = None,
             **extra: Any) -> planner.Scenario:
    """One class ``a`` of 1 request/s, 100 + 100 tokens, TTFT 1 s and TPOT 100 ms, on H100-SXM, rented."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "cands", "model": {"base": model},
        "workload": [{"name": "a", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 100, **(workload or {})}],
        "horizon": {"months": 12, "period_months": 3},
        "market": {"hardware": ["h100-sxm"], "modes": ["on-demand"], **(market or {})},
        "techniques": {**NONE, **(techniques or {})}, **extra})


def estimate(catalog: Catalog, tp: int, batch: int, model: str = "llama-3.1-8b") -> planner.Estimate:
    """The estimator's figures for 100 + 100 tokens on H100-SXM at ``tp`` and ``batch`` (0 = largest that fits)."""
    return planner.estimate(model, "h100-sxm", tp=tp, batch=batch or None, input_tokens=100, output_tokens=100,
                            catalog=catalog)


def row(cs: CandidateSet, tp: int, batch: int, variant: int = 0) -> int:
    """The one table row of ``variant`` at ``tp`` GPUs and requested ``batch``."""
    t = cs.deployments
    [i] = np.flatnonzero((t.variant == variant) & (t.tp == tp) & (t.batch_requested == batch))
    return int(i)


# ------------------------------------------------------------------------------ the deployment table

def test_the_table_holds_every_tp_and_batch_with_the_estimators_capacity(catalog: Catalog) -> None:
    """4 TPs × 11 batches = 44 rows, each batch of the ladder once per TP, and each row's capacity,
    TTFT and TPOT those of ``planner.estimate`` for the same deployment (TP ``t``, batch ``b``; the
    last rung asks for the largest batch that fits, as ``batch=None`` does)."""
    cs = build_candidates(scenario(), catalog)
    t, res = cs.deployments, cs.deployments.result
    assert len(t) == 4 * 11 == 44
    for tp in H100_TPS:
        assert sorted(t.batch_requested[t.tp == tp].tolist()) == sorted(float(b) for b in LADDER)
        for b in LADDER:
            i, e = row(cs, tp, b), estimate(catalog, tp, b)
            assert res.requests_per_s[i] == pytest.approx(e.requests_per_s_per_replica, rel=1e-12)
            assert res.ttft_s[i] * 1000 == pytest.approx(e.ttft_ms, rel=1e-12)
            assert res.tpot_s[i] * 1000 == pytest.approx(e.tpot_ms, rel=1e-12)
            assert res.batch[i] == e.batch
    # 8B at 100 + 100 tokens: every row well inside 1 s / 100 ms, but rung 512 is above the engines' cap of 256
    assert t.latency_ok.tolist() == (t.batch_requested <= 256).tolist() and int(t.latency_ok.sum()) == 40


def test_a_mean_target_equal_to_the_achieved_figure_is_met(catalog: Catalog) -> None:
    """``latency_ok`` is ``TTFT ≤ target`` and ``TPOT ≤ target``: a target equal to a row's own figure
    keeps that row.  TP8 at batch 1 has the lowest TTFT and the lowest TPOT of the 44 rows (most GPUs, one
    sequence), so a TTFT target of exactly its TTFT keeps that one row, and a TPOT target of exactly its
    TPOT keeps that one row."""
    best = estimate(catalog, 8, 1)
    for target in ({"ttft_ms": best.ttft_ms}, {"tpot_ms": best.tpot_ms}):
        cs = build_candidates(scenario(workload=target), catalog)
        assert np.flatnonzero(cs.deployments.latency_ok).tolist() == [row(cs, 8, 1)], target


def test_the_table_size_limit_counts_tps_in_the_domain_and_eleven_batches(catalog: Catalog) -> None:
    """1 variant × 1 class × 4 TPs (1, 2, 4, 8 ≤ 8 GPUs) × 11 batches = 44 rows: a limit of 44 builds,
    a limit of 43 is refused naming the count."""
    def limited(rows: int) -> Catalog:
        return dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_deployment_rows": rows}))

    assert len(build_candidates(scenario(), limited(44)).deployments) == 44
    with pytest.raises(ScenarioError, match=r"44 deployment rows \(1 variants x 1 classes x 4 hardware/TP pairs "
                                            r"x 11 batches\) exceed the planner's limit of 43"):
        build_candidates(scenario(), limited(43))


def test_hardware_is_ordered_by_on_demand_price_with_unpriced_last(catalog: Catalog) -> None:
    """Listed as Gaudi3, H100-SXM, L4: ordered L4 ($0.8048/GPU-h) < H100-SXM ($2.99), then Gaudi3, which
    has no on-demand price — whatever the scenario's order."""
    assert catalog.price("gaudi3", "on-demand") is None
    l4, h100 = (catalog.price(s, "on-demand").usd_per_gpu_hour for s in ("l4", "h100-sxm"))  # type: ignore[union-attr]
    assert l4 < h100
    for listed in (["gaudi3", "h100-sxm", "l4"], ["h100-sxm", "gaudi3", "l4"]):
        cs = build_candidates(scenario(market={"hardware": listed}), catalog)
        assert [h.slug for h in cs.hardware] == ["l4", "h100-sxm", "gaudi3"]


def test_a_class_exactly_as_long_as_the_context_is_served(catalog: Catalog) -> None:
    """Llama-3.1-8B holds 131,072 tokens: 131,000 + 72 = 131,072 is served (no context exclusion, 44
    rows); 131,001 + 72 = 131,073 is one token too many for every variant, an input error."""
    assert catalog.models["llama-3.1-8b"].max_context_tokens == 131_072
    cs = build_candidates(scenario(workload={"input_tokens": 131_000, "output_tokens": 72, "ttft_ms": 600_000}),
                          catalog)
    assert len(cs.deployments) == 44 and not [e for e in cs.exclusions if e.family == "context"]
    with pytest.raises(ScenarioError, match="131073 tokens exceeds the context") as err:
        build_candidates(scenario(workload={"input_tokens": 131_001, "output_tokens": 72, "ttft_ms": 600_000}),
                         catalog)
    assert err.value.field == "workload[a].input_tokens"


def test_expert_parallel_rows_hold_tp_times_ep_gpus_and_only_those_in_one_domain_serve(catalog: Catalog) -> None:
    """Mixtral-8x7B (8 experts) with ``plan.expert_parallel = 8`` on H100-SXM (8-GPU domain): 8 groups of
    TP 1, 2, 4, 8 hold 8, 16, 32, 64 GPUs; only 8 × 1 = 8 fits one domain, so only the TP-8 rows fit and
    only they may meet the targets.  The result's batch is per replica: 8 groups × the batch each asks for.
    8 groups need exactly the 8 GPUs of the domain (allowed); on a 4-GPU domain they are refused."""
    cs = build_candidates(scenario(model="mixtral-8x7b", plan={"expert_parallel": 8}), catalog)
    t, res = cs.deployments, cs.deployments.result
    assert sorted(set(t.tp.tolist())) == [8.0, 16.0, 32.0, 64.0]
    assert set(t.tp[res.fits].tolist()) == {8.0}
    assert not (t.latency_ok & ~res.fits).any() and t.latency_ok.any()
    ladder = (t.tp == 8) & (t.batch_requested > 0)
    np.testing.assert_array_equal(res.batch[ladder], 8 * t.batch_requested[ladder])
    small = catalog.hardware["h100-sxm"].model_copy(update={"scaleup_domain_gpus": 4})
    four = dataclasses.replace(catalog, hardware={**catalog.hardware, "h100-sxm": small})
    with pytest.raises(ScenarioError, match="8 groups need 8 GPUs in one scale-up domain; the market's largest "
                                            "holds 4"):
        build_candidates(scenario(model="mixtral-8x7b", plan={"expert_parallel": 8}), four)


# ------------------------------------------------------------------------------------ tail targets

def test_a_tail_target_caps_each_row_at_its_own_rho_max_with_the_batch_one_step(catalog: Catalog) -> None:
    """Under a P99 TPOT target each row's capacity is ``ρ_max × saturated`` (requests/s and output tokens/s
    alike, so output tokens/s stays requests/s × 100 tokens), with ``ρ_max`` from the queueing model fed the
    row's own figures and the decode step at batch 1 of the same TP (``T_1``, the chord's lower end)."""
    sc_tail = scenario(workload={"tpot_ms": 10, "tpot_p99_ms": 10})
    plain = build_candidates(scenario(workload={"tpot_ms": 10}), catalog).deployments
    cs = build_candidates(sc_tail, catalog)
    tail = cs.deployments
    assert tail.utilisation_cap is not None
    p = plain.result
    rows = np.array([row(cs, tp, b) for tp in H100_TPS for b in LADDER])
    ones = np.array([row(cs, tp, 1) for tp in H100_TPS for _ in LADDER])  # batch 1 of the same TP
    queue = ReplicaQueue.broadcast(
        capacity_rps=p.requests_per_s[rows], slots=p.batch[rows], prefill_s=p.prefill_s[rows],
        prefill_gpu_s=p.prefill_gpu_s[rows], step_s=p.step_s[rows], step_one_s=p.step_s[ones],
        holding_cv=catalog.defaults.slot_holding_time_cv)
    rho = max_utilisation(queue, np.nan, 0.010)
    np.testing.assert_allclose(tail.utilisation_cap[rows], rho, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tail.result.requests_per_s[rows], rho * p.requests_per_s[rows], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tail.result.output_tokens_per_s[rows], 100 * tail.result.requests_per_s[rows],
                               rtol=1e-12, atol=1e-12)
    capped = int(((rho > 0.0) & (rho < 1.0)).sum())
    assert capped >= 4  # the target binds on a share of rows, not none of them


def test_a_p99_target_equal_to_the_idle_figure_leaves_no_load(catalog: Catalog) -> None:
    """TPOT target = TPOT P99 target = TP8 batch 1's TPOT ``T_1`` (the lowest of the 44 rows).  Its mean
    TPOT is ``T_1`` (one sequence: no other prefills), so it alone meets the mean; its idle P99 TPOT is
    ``T_1`` too and any load adds other requests' prefills, ``T_1/(1 − λG_p) > T_1``: ``ρ_max = 0``.  The row
    leaves ``latency_ok`` and one exclusion names the class, "1 deployments meeting the means" and the
    lowest idle P99, ``T_1`` (2 decimals); the diagnosis blames the P99 targets."""
    t1 = estimate(catalog, 8, 1).tpot_ms
    cs = build_candidates(scenario(workload={"tpot_ms": t1, "tpot_p99_ms": t1}), catalog)
    assert not cs.deployments.latency_ok.any()
    [tail] = [e for e in cs.exclusions if e.family == "latency"]
    assert tail.subject == "class a: 1 deployments meeting the means"
    assert f"TPOT P99 {t1:.10g} ms (lowest unloaded P99 {t1:.2f} ms)" in tail.reason
    [finding] = latency_and_quality_checks(scenario(workload={"tpot_ms": t1, "tpot_p99_ms": t1}), cs, [None])
    assert finding.family == "latency" and "the P99 targets are unreachable" in finding.message


# ------------------------------------------------------------------------------------ measured rows

def measured(tp: int) -> dict[str, Any]:
    """A measured capacity of 10 requests/s per replica of TP ``tp`` on H100-SXM for class ``a``."""
    return {"hardware": "h100-sxm", "workload": "a", "requests_per_s": 10, "tp": tp, "source": "bench"}


def test_a_measured_tp_of_the_whole_domain_replaces_its_rows_uncapped(catalog: Catalog) -> None:
    """TP 8 on an 8-GPU domain is a deployment (accepted): the (variant, class, hardware) is then served at
    TP8 only, on one row at 10 requests/s with ``ρ_max`` 1 (measured at the class's SLO, P99 included, so
    not scaled by the queueing model).  TP 16 exceeds the domain (refused)."""
    sc = scenario(workload={"ttft_p99_ms": 1000}, measured=[measured(8)])
    cs = build_candidates(sc, catalog)
    t = cs.deployments
    assert t.measured is not None and t.utilisation_cap is not None
    [j] = np.flatnonzero(t.latency_ok)
    assert j == row(cs, 8, 0) and t.measured[j]
    assert t.result.requests_per_s[j] == 10.0 and t.utilisation_cap[j] == 1.0
    with pytest.raises(ScenarioError, match="TP16 exceeds h100-sxm's scale-up domain"):
        build_candidates(scenario(measured=[measured(16)]), catalog)


def test_a_measurement_does_not_describe_a_prefix_cached_variant(catalog: Catalog) -> None:
    """A prefix cache prefills only the unshared 50 of the 100 prompt tokens: a measurement of the plain
    model says nothing about it, so the prefix variant keeps its 44 roofline rows while the baseline is
    served at the measured TP1 only."""
    sc = scenario(workload={"shared_prefix_tokens": 50}, techniques={"caching": ["none", "prefix"]},
                  technique_settings={"caching": {"distinct_prefixes": 1}}, measured=[measured(1)])
    cs = build_candidates(sc, catalog)
    t = cs.deployments
    assert t.measured is not None
    prefix = next(v.index for v in cs.variants if v.name == "caching:prefix")
    base = next(v.index for v in cs.variants if v.is_baseline)
    assert np.flatnonzero(t.measured).tolist() == [row(cs, 1, 0, base)]
    assert int(t.latency_ok[t.variant == prefix].sum()) == 40  # every row but rung 512 (above the cap of 256)
    assert int(t.latency_ok[t.variant == base].sum()) == 1


# ------------------------------------------------------------------------------------------- variants

class ToySettings(TechniqueSettings):
    """No settings."""


class Toy:
    """A plug-in with three options: ``amd-only`` (runs on AMD hardware only; serves half the queries),
    ``no-fp8`` (declares, on its side only, a conflict with ``quantization:fp8``; serves a quarter) and
    ``monthly`` (a fixed $1,000 a month, whatever the traffic) and ``class-fee`` (a fixed monthly fee the
    plug-in states per class: $1,000 on class ``a``, $3,000 on any other)."""

    name: ClassVar[str] = "toy"
    summary: ClassVar[str] = "a toy technique for the candidate tests"
    order: ClassVar[int] = 90  # after quantization (30): in a combination fp8 comes first
    Settings: ClassVar[type[TechniqueSettings]] = ToySettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo(n, n, frozenset({Effect.SERVED_QUERIES}))
                for n in ("amd-only", "no-fp8", "monthly", "class-fee")]

    def options(self, ctx: Any) -> OptionSet:
        def serving(option: str, share: float) -> Any:
            return lambda p, w: p.changed("toy", option, "test", served_query_fraction=p.served_query_fraction * share)

        effects = frozenset({Effect.SERVED_QUERIES})
        return OptionSet((
            Option("toy", "amd-only", "amd only", effects, serving("amd-only", 0.5), vendors=frozenset({"amd"})),
            Option("toy", "no-fp8", "no fp8", effects, serving("no-fp8", 0.25),
                   conflicts_with=frozenset({"quantization:fp8"})),
            Option("toy", "monthly", "monthly fee", frozenset({Effect.RECURRING_COST}),
                   lambda p, w: p.changed("toy", "monthly", "test",
                                          recurring_usd_per_month=p.recurring_usd_per_month + 1000.0)),
            Option("toy", "class-fee", "a monthly fee stated per class", frozenset({Effect.RECURRING_COST}),
                   lambda p, w: p.changed("toy", "class-fee", "test", recurring_usd_per_month=(
                       p.recurring_usd_per_month + (3000.0 if w.name == "b" else 1000.0)))),
        ))


def toy_registry() -> Registry:
    """The built-in techniques and :class:`Toy`."""
    registry = Registry()
    for technique in default_registry().ordered():
        registry.register(technique)
    registry.register(Toy())
    return registry


def test_an_option_for_one_vendor_runs_only_on_that_vendors_hardware(catalog: Catalog) -> None:
    """``toy:amd-only`` on a market of H100-SXM (NVIDIA, $2.99) and MI300X (AMD, $1.85; first in price order):
    the baseline runs on both, the option on MI300X only, with one exclusion for H100-SXM naming the
    vendor; listed alone on an NVIDIA-only market it can run nowhere, an input error."""
    cs = build_candidates(scenario(market={"hardware": ["h100-sxm", "mi300x"]},
                                   techniques={"toy": ["none", "amd-only"]}), catalog, toy_registry())
    assert [h.slug for h in cs.hardware] == ["mi300x", "h100-sxm"]
    toy = next(v.index for v in cs.variants if v.name == "toy:amd-only")
    base = next(v.index for v in cs.variants if v.is_baseline)
    assert cs.allowed_hardware[toy] == frozenset({0}) and cs.allowed_hardware[base] == frozenset({0, 1})
    [excluded] = [e for e in cs.exclusions if e.family == "hardware"]
    assert excluded.subject == "toy:amd-only on h100-sxm"
    assert excluded.reason == "toy:amd-only runs only on ['amd'] hardware"
    assert set(cs.deployments.hardware[cs.deployments.variant == toy].tolist()) == {0}
    with pytest.raises(ScenarioError, match="option 'amd-only' cannot run on any allowed hardware") as err:
        build_candidates(scenario(techniques={"toy": ["amd-only"]}), catalog, toy_registry())
    assert err.value.field == "techniques.toy"


def test_a_conflict_declared_by_either_option_excludes_the_pair(catalog: Catalog) -> None:
    """Only ``toy:no-fp8`` names the conflict (fp8 says nothing of toy): of the 2 × 2 combinations of
    quantization {none, fp8} × toy {none, no-fp8}, fp8 + no-fp8 is excluded and 3 variants remain."""
    cs = build_candidates(scenario(techniques={"quantization": ["none", "fp8"], "toy": ["none", "no-fp8"]},
                                   quality={"max_drop": 100.0}), catalog, toy_registry())
    assert sorted(v.name for v in cs.variants) == ["baseline", "quantization:fp8", "toy:no-fp8"]
    [clash] = [e for e in cs.exclusions if e.family == "conflict"]
    assert clash.subject == "quantization:fp8 + toy:no-fp8"


CACHE_SETTINGS = {"caching": {"distinct_prefixes": 1, "response_retention_days": 7, "store_usd_per_gb_month": 0.1}}


def test_a_combined_option_is_offered_only_when_each_part_is_listed(catalog: Catalog) -> None:
    """``prefix+response`` is allowed by listing it, or both ``prefix`` and ``response``; listing ``none``
    and ``prefix`` offers those two only (one of the two parts is not enough).  With a 20 % repeat rate
    and a 50-token shared prefix every option serves a different profile (no duplicates)."""
    def names(listed: list[str]) -> list[str]:
        sc = scenario(workload={"shared_prefix_tokens": 50, "repeat_rate": 0.2}, techniques={"caching": listed},
                      technique_settings=CACHE_SETTINGS)
        return sorted(v.name for v in build_candidates(sc, catalog).variants)

    assert names(["none", "prefix"]) == ["baseline", "caching:prefix"]
    assert names(["prefix", "response"]) == ["caching:prefix", "caching:prefix+response", "caching:response"]
    assert names(["none", "prefix+response"]) == ["baseline", "caching:prefix+response"]


def test_the_variant_limit_counts_the_product_of_the_options(catalog: Catalog) -> None:
    """quantization {none, fp8, int8} × caching {none, prefix} = 3 × 2 = 6 combinations: a limit of 6
    builds, a limit of 5 is refused naming the count."""
    sc = scenario(workload={"shared_prefix_tokens": 50}, technique_settings=CACHE_SETTINGS,
                  techniques={"quantization": ["none", "fp8", "int8"], "caching": ["none", "prefix"]},
                  quality={"max_drop": 100.0})

    def limited(n: int) -> Catalog:
        defaults = catalog.defaults.model_copy(update={"max_variant_combinations": n})
        return dataclasses.replace(catalog, defaults=defaults)

    assert len(build_candidates(sc, limited(6)).variants) == 6
    with pytest.raises(ScenarioError, match="6 combinations of technique options exceed the planner's limit of 5"):
        build_candidates(sc, limited(5))


def test_an_option_left_out_of_the_list_is_not_reported_unavailable(catalog: Catalog) -> None:
    """Caching unlisted (all options): ``semantic`` and ``prefix+semantic`` need a hit rate, which has no
    default — 2 "unavailable" exclusions; caching listed as {none, prefix}: nothing to report."""
    def exclusions(caching: list[str] | None) -> list[tuple[str, str]]:
        sc = scenario(workload={"shared_prefix_tokens": 50}, technique_settings={"caching": {"distinct_prefixes": 1}})
        data = sc.model_dump(mode="json")
        if caching is None:
            data["techniques"].pop("caching")
        else:
            data["techniques"]["caching"] = caching
        cs = build_candidates(planner.scenario_from_dict(data), catalog)
        return sorted((e.subject, e.reason) for e in cs.exclusions if e.family == "unavailable")

    unlisted = exclusions(None)
    assert [subject for subject, _ in unlisted] == ["caching:prefix+semantic", "caching:semantic"]
    assert all("semantic_hit_rate" in reason for _, reason in unlisted)
    assert exclusions(["none", "prefix"]) == []


def test_a_variants_one_time_work_is_its_largest_classs(catalog: Catalog) -> None:
    """One-time work (calibration, distillation) is done once for the variant: of per-class figures 1e18
    and 3e18 FLOPs it is 3e18, not 1e18."""
    from planner.optimize.variants import Variant
    from planner.physics.profile import base_profile

    base = base_profile(catalog.models["llama-3.1-8b"], "bf16", None, catalog)
    profiles = {"a": base.model_copy(update={"one_time_flops": 1e18}),
                "b": base.model_copy(update={"one_time_flops": 3e18})}
    assert Variant(index=0, options={}, profiles=profiles).one_time_flops() == 3e18


def test_a_base_score_given_in_the_scenario_is_the_baseline_quality(catalog: Catalog) -> None:
    """``quality.base_score = 50`` replaces the catalog's MMLU of Llama-3.1-8B: the candidate set's base
    score and the baseline profile's score are 50."""
    catalog_score = catalog.quality_of("llama-3.1-8b", "mmlu")
    assert catalog_score is not None and catalog_score.score != 50.0
    cs = build_candidates(scenario(quality={"base_score": 50.0}), catalog)
    assert cs.base_score == 50.0
    assert [v.profiles["a"].quality_score for v in cs.variants if v.is_baseline] == [50.0]


# ---------------------------------------------------------------------------- infeasibility diagnosis

def test_a_model_that_fits_nowhere_is_a_memory_finding(catalog: Catalog) -> None:
    """Llama-3.1-405B in BF16 is ~810 GB of weights; eight 24 GB L4s hold 192 GB: no row fits, and the
    finding is memory, not latency."""
    sc = scenario(model="llama-3.1-405b", market={"hardware": ["l4"]})
    cs = build_candidates(sc, catalog)
    assert not cs.deployments.result.fits.any()
    [finding] = latency_and_quality_checks(sc, cs, [None])
    assert finding.family == "memory" and finding.workload == "a"


def test_a_target_met_exactly_is_not_named_unreachable(catalog: Catalog) -> None:
    """TTFT target = TP8 batch 1's TTFT (the best, met with equality), TPOT target 1 ms < the best TPOT
    (TP8 batch 1, ~2.2 ms): the finding names TPOT only, at TP8 batch 1."""
    best = estimate(catalog, 8, 1)
    sc = scenario(workload={"ttft_ms": best.ttft_ms, "tpot_ms": 1.0})
    [finding] = latency_and_quality_checks(sc, build_candidates(sc, catalog), [None])
    assert finding.family == "latency"
    assert f"TPOT 1 ms is unreachable: best achievable {best.tpot_ms:.1f} ms (h100-sxm, baseline, TP8, batch 1)" \
        in finding.message
    assert "TTFT" not in finding.message


def test_targets_met_apart_but_not_together_name_the_row_closest_on_its_worse_target(catalog: Catalog) -> None:
    """4,000 + 100 tokens on L4 or A10G (TP8, batch 1 best on each): L4 ~250 ms / ~10.3 ms, A10G ~329 ms /
    ~5.9 ms.  Targets TTFT 260 ms (only L4 meets it) and TPOT 6 ms (only A10G): each is reachable, not both.
    The closest row minimises the worse ratio: A10G max(329/260, 5.9/6) = 1.27 < L4 max(250/260, 10.3/6) = 1.72."""
    l4, a10g = (planner.estimate("llama-3.1-8b", hw, tp=8, batch=1, input_tokens=4000, output_tokens=100,
                                 catalog=catalog) for hw in ("l4", "a10g"))
    assert l4.ttft_ms <= 260 < a10g.ttft_ms and a10g.tpot_ms <= 6 < l4.tpot_ms
    assert max(a10g.ttft_ms / 260, a10g.tpot_ms / 6) < max(l4.ttft_ms / 260, l4.tpot_ms / 6)
    sc = scenario(workload={"input_tokens": 4000, "ttft_ms": 260, "tpot_ms": 6}, market={"hardware": ["l4", "a10g"]})
    [finding] = latency_and_quality_checks(sc, build_candidates(sc, catalog), [None])
    assert finding.family == "latency"
    assert (f"no deployment meets TTFT 260 ms and TPOT 6 ms together: closest {a10g.ttft_ms:.0f} ms / "
            f"{a10g.tpot_ms:.1f} ms (a10g, baseline, TP8, batch 1)") in finding.message


def test_the_quality_floor_is_checked_among_latency_feasible_rows_only(catalog: Catalog) -> None:
    """BF16's best TPOT (TP8 batch 1) is ~2.15 ms, FP8's ~1.80 ms: a 2 ms target leaves FP8 rows only, so a
    floor at the base score is unreachable (best = FP8's score) although BF16 rows fit; a floor at FP8's
    score is reachable, one 0.0005 points above it is not (the tolerance is 1e-9, not 1e-3)."""
    bf16, fp8 = (planner.estimate("llama-3.1-8b", "h100-sxm", tp=8, batch=1, precision=p, input_tokens=100,
                                  output_tokens=100, catalog=catalog) for p in ("bf16", "fp8"))
    assert fp8.tpot_ms <= 2.0 < bf16.tpot_ms
    sc = scenario(workload={"tpot_ms": 2.0}, techniques={"quantization": ["none", "fp8"]}, quality={"max_drop": 100.0})
    cs = build_candidates(sc, catalog)
    base = next(v.profiles["a"].quality_score for v in cs.variants if v.is_baseline)
    q8 = next(v.profiles["a"].quality_score for v in cs.variants if v.name == "quantization:fp8")
    assert base is not None and q8 is not None and q8 < base
    [finding] = latency_and_quality_checks(sc, cs, [base])
    assert finding.family == "quality" and finding.best_achievable == f"{q8:.2f}"
    assert latency_and_quality_checks(sc, cs, [q8]) == []
    [above] = latency_and_quality_checks(sc, cs, [q8 + 0.0005])
    assert above.family == "quality"


def test_a_power_cap_alone_is_named_as_the_binding_cap(catalog: Catalog) -> None:
    """Owned GPUs only (buy, no lead time) under a 0.1 kW cap: one H100 draws 700 W, so no plan exists; the
    uncapped plan breaks no quota and no budget (there are none), so the finding is the power cap, with what
    the cheapest uncapped plan owns: one DGX H100 server (bought whole: 8 GPUs), 10.2 kW × PUE 1.58 =
    16.1 kW of facility power."""
    assert catalog.hardware["h100-sxm"].board_power_w == 700.0
    sc = scenario(market={"modes": ["buy"], "lead_time_months": {"buy": 0}, "power_cap_kw": 0.1})
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "infeasible"
    assert [f.family for f in plan.infeasibility] == ["power"]
    assert plan.infeasibility[0].best_achievable == f"{10.2 * 1.58:,.1f} kW" == "16.1 kW"


def test_solver_noise_on_the_uncapped_plan_is_not_a_quota_need(catalog: Catalog,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """1 request/s of 100 + 100 tokens needs one H100 (TP1; 1 GPU × $2.99 × 8,766 h = $26,210 a year), so a
    $1 budget is infeasible.  With a quota of 1 H100 the uncapped plan uses exactly the quota; read back
    with 5e-6 of solver noise on its replica counts it is 1.000005 GPUs, within the 1e-5 tolerance: only
    the budget is named, not the quota."""
    from planner.optimize import infeasibility
    from planner.optimize import solver as solvers

    built: list[Any] = []

    def capture(*args: Any, **kwargs: Any) -> Any:
        built.append(real_build(*args, **kwargs))
        return built[-1]

    def noisy(prob: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = solvers.run(prob, *args, **kwargs)
        for var in built[-1].r.values():
            if (var.value() or 0.0) > 0.5:
                var.varValue = var.value() + 5e-6
        return outcome

    real_build = infeasibility.build_problem
    monkeypatch.setattr(infeasibility, "build_problem", capture)
    monkeypatch.setattr(infeasibility, "solvers", type("Noisy", (), {"run": staticmethod(noisy)}))
    plan = planner.plan(scenario(market={"quota_gpus": {"h100-sxm": 1}, "budget_usd": 1.0}), catalog=catalog)
    assert plan.status == "infeasible" and built
    assert [f.family for f in plan.infeasibility] == ["budget"]
    assert "$26,210" in plan.infeasibility[0].message


def test_a_quota_below_one_purchase_unit_is_named_with_the_units_in_service(catalog: Catalog) -> None:
    """1 request/s needs one H100 (TP1), but on-demand H100s come here in units of 8: the cheapest uncapped
    plan has 8 GPUs in service.  The quota row bounds GPUs in service, so a quota of 4 is what fails, and the
    diagnosis must name it with 8 GPUs — not count the 1 replica GPU, which fits the quota, and fall back to
    "each cap alone can be met, but not all together"."""
    plan = planner.plan(scenario(market={"gpus_per_unit": {"on-demand": 8}, "quota_gpus": {"h100-sxm": 4}}),
                        catalog=catalog)
    assert plan.status == "infeasible"
    assert [f.family for f in plan.infeasibility] == ["quota"]
    assert plan.infeasibility[0].best_achievable == "8 GPUs"
    assert "has 8 in service" in plan.infeasibility[0].message


# ------------------------------------------------------------------------------------ the plan read back

#: One H100-SXM on demand for a 3-month period: $2.99/GPU-h × 3 × 730.5 h (no discounting at rate 0).
H100_QUARTER_USD = 2.99 * 3 * 730.5


def test_the_plans_cost_rows_add_up_to_the_fleet_times_the_price_and_the_monthly_fee(catalog: Catalog) -> None:
    """1 request/s needs one H100 (TP1) every quarter: rent = 4 × $6,552.59 = $26,210.34.  The only variant
    carries a fixed $1,000 a month: 12 × $1,000 = $12,000 of technique cost, $3,000 a quarter.  Lifetime =
    $38,210.34 = one-time 0 + recurring (rent + technique); every quarter's spend = $6,552.59 + $3,000.
    Levelized (rate 0): 86,400 queries a day × 30.4375 days × 12 months = 31,557,600 queries of 200 tokens:
    $38,210.34 / 31.5576 M queries and / (200 × 31.5576) M tokens."""
    plan = plan_scenario(scenario(techniques={"toy": ["monthly"]}), catalog, toy_registry())
    assert plan.status == "optimal", plan.message
    assert plan.cost_breakdown is not None and plan.lifetime_cost_usd is not None
    gpus = [0] * 4
    for f in plan.fleet:
        assert (f.hardware, f.mode) == ("h100-sxm", "on-demand")
        gpus[f.period] += f.gpus_in_service
    assert gpus == [1, 1, 1, 1]
    assert plan.cost_breakdown.rent_usd == pytest.approx(sum(gpus) * H100_QUARTER_USD, rel=1e-9)
    assert plan.cost_breakdown.technique_recurring_usd == pytest.approx(12 * 1000.0, rel=1e-9)
    assert plan.lifetime_cost_usd == pytest.approx(4 * H100_QUARTER_USD + 12_000.0, rel=1e-9)
    assert plan.one_time_cost_usd == 0.0
    assert plan.lifetime_cost_usd == pytest.approx(plan.one_time_cost_usd + plan.recurring_cost_usd, rel=1e-12)
    assert plan.spend_by_period_usd == pytest.approx([H100_QUARTER_USD + 3000.0] * 4, rel=1e-9)
    assert sum(s.gpus for s in plan.serving if s.period == 0) == 1
    queries = 86_400 * DAYS_PER_MONTH * 12
    assert DAYS_PER_MONTH == 30.4375 and queries == 31_557_600
    assert plan.cost_per_million_queries_usd == pytest.approx(plan.lifetime_cost_usd / queries * 1e6, rel=1e-9)
    assert plan.cost_per_million_tokens_usd == pytest.approx(plan.lifetime_cost_usd / (200 * queries) * 1e6, rel=1e-9)


def test_a_pooled_fraction_of_a_replica_shows_one_whole_replica(catalog: Catalog) -> None:
    """Pooled capacity lets replicas be fractional; 1 request/s against a TP1 H100 replica's >100 requests/s
    (batch 512: ~162, the estimate) is a load of < 0.01 replica, rounded up, never down: 1 replica, 1 GPU."""
    assert estimate(catalog, 1, 512).requests_per_s_per_replica > 100
    plan = planner.plan(scenario(plan={"pooled_capacity": True}), catalog=catalog)
    assert plan.status == "optimal", plan.message
    carrying = [s for s in plan.serving if s.traffic_share > 0]
    assert len(carrying) == 4  # one line per quarter
    assert all((s.replicas, s.gpus) == (1, s.tp) for s in carrying)


def test_class_summaries_weigh_quality_by_share_and_take_the_worst_latency_and_served_share(
        catalog: Catalog) -> None:
    """Two lines serve class ``a`` in period 0: the baseline (share 0.25, score 60, TTFT 100 ms, TPOT 20 ms)
    and the response cache (share 0.75, score 80, TTFT 300 ms, TPOT 10 ms).  The class's score is the
    share-weighted 0.25 × 60 + 0.75 × 80 = 75; its worst TTFT 300 ms and TPOT 20 ms; its served share the
    smaller of the two variants', 1 − 0.2 repeat rate = 0.8 (the baseline serves 1)."""
    from planner.economics.periods import demand_of, periods_of
    from planner.optimize.extract import _class_summaries
    from planner.plan_model import ServedBy

    sc = scenario(workload={"repeat_rate": 0.2}, techniques={"caching": ["none", "response"]})
    cs = build_candidates(sc, catalog)
    assert sorted(v.name for v in cs.variants) == ["baseline", "caching:response"]
    line = {"period": 0, "workload": "a", "hardware": "h100-sxm", "tp": 1, "batch": 8, "replicas": 1, "gpus": 1}
    serving = [ServedBy(**line, variant="baseline", traffic_share=0.25, quality_score=60.0, ttft_ms=100.0,
                        tpot_ms=20.0),
               ServedBy(**line, variant="caching:response", traffic_share=0.75, quality_score=80.0, ttft_ms=300.0,
                        tpot_ms=10.0)]
    demand = demand_of(sc.workload, sc.horizon, periods_of(sc.horizon))
    [summary] = _class_summaries(sc, cs, serving, [None], demand)
    assert summary.quality_score == pytest.approx(75.0)
    assert (summary.worst_ttft_ms, summary.worst_tpot_ms) == (300.0, 20.0)
    assert summary.served_query_fraction == pytest.approx(0.8)


def test_serving_spend_reaching_the_training_cost_at_the_horizons_end_overtakes_then() -> None:
    """$100 of serving spend (PV) in each of two 6-month periods against a $200 training cost: the
    cumulative spend reaches $200 exactly at the end of period 1, month 6 + (200 − 100)/100 × 6 = 12; a
    training cost of $150 is reached at month 6 + 50/100 × 6 = 9; one of $201 is never reached (None)."""
    from planner.optimize.extract import _overtake_month

    spend = np.array([100.0, 100.0])
    assert _overtake_month(spend, 6, 200.0) == pytest.approx(12.0)
    assert _overtake_month(spend, 6, 150.0) == pytest.approx(9.0)
    assert _overtake_month(spend, 6, 201.0) is None


@pytest.mark.parametrize(("scale", "verified"), [(1.0 + 1e-7, True), (1.0 + 1e-3, False)])
def test_an_objective_off_the_recomputed_cost_by_more_than_a_millionth_is_an_error(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch, scale: float, verified: bool) -> None:
    """The plan's cost is recomputed in dollars and checked against the solver's objective within
    1e-6 × cost + $0.001: on the $26,210.34 of one H100 for a year, an objective read 1e-7 high ($0.003 off)
    passes; one read 1e-3 high ($26 off) is an error, never a plan."""
    from planner.optimize import extract

    monkeypatch.setattr(extract, "USD_PER_KUSD", extract.USD_PER_KUSD * scale)
    plan = planner.plan(scenario(), catalog=catalog)
    if verified:
        assert plan.status == "optimal" and plan.lifetime_cost_usd == pytest.approx(4 * H100_QUARTER_USD, rel=1e-9)
    else:
        assert plan.status == "error" and plan.lifetime_cost_usd is None
        assert "differs from recomputed cost 26210.34" in plan.message


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_monthly_fee_stated_per_class_is_charged_once_at_its_largest(catalog: Catalog, solver: str) -> None:
    """Classes ``a`` and ``b`` (1 request/s each, 100 + 100 tokens) under ``toy:class-fee``, which states
    $1,000 a month on ``a`` and $3,000 on ``b``.  A fixed fee is paid once per variant, the largest any
    class states (as one-time work is): 12 months × $3,000 = $36,000 of technique cost, in the objective
    and in the plan read back alike — HiGHS (direct model) and CBC (PuLP model).  The old read-back took
    class ``a``'s $1,000 while the objective charged another class's fee, and the plan was an ``error``."""
    b = {"name": "b", "queries_per_day": 86_400, "input_tokens": 100, "output_tokens": 100,
         "ttft_ms": 1000, "tpot_ms": 100}
    sc = scenario(techniques={"toy": ["class-fee"]}, solver={"name": solver})
    sc = planner.scenario_from_dict({**sc.model_dump(mode="json", exclude_none=True),
                                     "workload": [sc.workload[0].model_dump(mode="json", exclude_none=True), b]})
    plan = plan_scenario(sc, catalog, toy_registry())
    assert plan.status == "optimal", plan.message
    assert plan.cost_breakdown is not None
    assert plan.cost_breakdown.technique_recurring_usd == pytest.approx(12 * 3000.0, rel=1e-9)
