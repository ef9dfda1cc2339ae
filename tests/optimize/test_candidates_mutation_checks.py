"""Rules of the candidate table, the variants, the column pruning, the pair bounds and the
infeasibility diagnosis that a mutation review found unchecked (:mod:`planner.optimize.candidates`,
:mod:`planner.optimize.variants`, :mod:`planner.optimize.pruning`, :mod:`planner.optimize.pairs`,
:mod:`planner.optimize.infeasibility`).

Most tests build the one-class scenario of :mod:`tests.optimize.test_candidates_hand_figures`
(100 + 100 tokens on Llama-3.1-8B, H100-SXM) or a hand-made stand-in table; none solves a MILP.
Every expected figure is worked out in the test from the rule in the module's docstring.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest

import planner
from planner.catalog.store import Catalog
from planner.errors import InputError, ScenarioError
from planner.optimize import candidates as cands
from planner.optimize import solver as solvers
from planner.optimize.candidates import build_candidates
from planner.optimize.infeasibility import latency_and_quality_checks, where
from planner.optimize.pruning import (
    meets_floors,
    prune,
    quality_floors,
    quality_interval,
)
from planner.optimize.solver import SolveStatus
from techniques.base import Effect, Option, OptionInfo, OptionSet, TechniqueSettings
from techniques.registry import Registry, default_registry
from tests.optimize.test_candidates_hand_figures import estimate, row, scenario
from tests.optimize.test_screening_hand_figures import candidates, profile, table

# --------------------------------------------------------------------------- hardware pairing

def test_a_precision_without_fallback_is_excluded_where_its_tensor_cores_are_missing(catalog: Catalog) -> None:
    """FP8 with ``allow_precision_fallback = false`` needs FP8 tensor cores: A100-80GB has none (no fp8
    peak in the catalog), H100-SXM has them.  In price order A100-80GB ($1.79) is hardware 0, H100-SXM
    ($2.99) hardware 1: the FP8 variant runs on 1 only, with one exclusion naming the dtype; on an
    A100-only market the listed option can run nowhere, an input error quoting that reason."""
    assert catalog.hardware["a100-80gb"].peak_tflops("fp8") is None
    assert catalog.hardware["h100-sxm"].peak_tflops("fp8") is not None
    settings = {"quantization": {"allow_precision_fallback": False}}
    sc = scenario(market={"hardware": ["h100-sxm", "a100-80gb"]}, techniques={"quantization": ["none", "fp8"]},
                  technique_settings=settings, quality={"max_drop": 100.0})
    cs = build_candidates(sc, catalog)
    assert [h.slug for h in cs.hardware] == ["a100-80gb", "h100-sxm"]
    fp8 = next(v.index for v in cs.variants if v.name == "quantization:fp8")
    base = next(v.index for v in cs.variants if v.is_baseline)
    assert cs.allowed_hardware[fp8] == frozenset({1}) and cs.allowed_hardware[base] == frozenset({0, 1})
    [excluded] = [e for e in cs.exclusions if e.family == "hardware"]
    assert excluded.subject == "quantization:fp8 on a100-80gb"
    assert excluded.reason == "quantization:fp8 needs fp8 tensor cores (precision fallback disallowed)"
    with pytest.raises(ScenarioError) as err:
        build_candidates(scenario(market={"hardware": ["a100-80gb"]}, techniques={"quantization": ["fp8"]},
                                  technique_settings=settings, quality={"max_drop": 100.0}), catalog)
    assert str(err.value.args[0]) == ("option 'fp8' cannot run on any allowed hardware (a100-80gb): "
                                      "quantization:fp8 needs fp8 tensor cores (precision fallback disallowed)")


def test_hardware_of_equal_price_is_ordered_by_slug() -> None:
    """The canonical order is (on-demand price, slug): two slugs at the same $1 are ordered by name."""
    flat = SimpleNamespace(price=lambda slug, mode: SimpleNamespace(usd_per_gpu_hour=1.0))
    assert sorted(["zeta", "alpha"], key=lambda s: cands._price_key(flat, s)) == ["alpha", "zeta"]  # type: ignore[arg-type]
    assert cands._price_key(flat, "zeta") == (1.0, "zeta")  # type: ignore[arg-type]


def test_a_quota_on_hardware_outside_the_market_is_refused(catalog: Catalog) -> None:
    """A quota names L4, which the market (H100-SXM only) does not list: bad input naming the quota."""
    with pytest.raises(ScenarioError, match="'l4' is not in market.hardware") as err:
        build_candidates(scenario(market={"quota_gpus": {"l4": 4}}), catalog)
    assert err.value.field == "market.quota_gpus.l4"


# ------------------------------------------------------------------------------ context and size

def test_a_variant_too_short_for_a_class_is_excluded_and_the_error_names_the_longest_context(
        catalog: Catalog) -> None:
    """10,000 + 100 = 10,100 tokens: Llama-3.1-8B (131,072) holds them, a swap to Llama-3-8B (8,192) or
    Llama-2-7B (4,096) does not.  With the baseline offered the swap is one context exclusion and the
    table holds the baseline's 4 TPs × 11 batches = 44 rows only; with only the two swaps offered no
    variant holds the class, an input error naming the longer of the two contexts, 8,192 (not 4,096)."""
    assert (catalog.models["llama-3-8b"].max_context_tokens, catalog.models["llama-2-7b"].max_context_tokens) \
        == (8192, 4096)
    long = {"input_tokens": 10_000, "ttft_ms": 600_000}
    cs = build_candidates(scenario(workload=long, techniques={"swap": ["none", "llama-3-8b"]},
                                   quality={"max_drop": 100.0}), catalog)
    [short] = [e for e in cs.exclusions if e.family == "context"]
    assert short.subject == "swap:llama-3-8b for a"
    assert short.reason == "10100 tokens exceed llama-3-8b's context (8192)"
    base = next(v.index for v in cs.variants if v.is_baseline)
    assert len(cs.deployments) == 44 and set(cs.deployments.variant.tolist()) == {base}
    with pytest.raises(ScenarioError, match=r"input \+ output = 10100 tokens exceeds the context of every model "
                                            r"the techniques offer \(longest: 8192\)"):
        build_candidates(scenario(workload=long, techniques={"swap": ["llama-3-8b", "llama-2-7b"]},
                                  quality={"max_drop": 100.0}), catalog)


def test_the_table_size_refusal_names_the_widest_dimension(catalog: Catalog) -> None:
    """1 variant × 1 class × 3 hardware types (L4, A10G, H100-SXM; 4 TPs each = 12 hardware/TP pairs)
    × 11 batches = 132 rows > a limit of 131: the widest of the three dimensions is the hardware (3),
    so the message asks to reduce it (not the variants or classes, 1 each)."""
    limited = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_deployment_rows": 131}))
    with pytest.raises(ScenarioError, match=r"132 deployment rows \(1 variants x 1 classes x 12 hardware/TP pairs x "
                                            r"11 batches\) exceed the planner's limit of 131; reduce the hardware "
                                            r"types \(market.hardware\)"):
        build_candidates(scenario(market={"hardware": ["l4", "a10g", "h100-sxm"]}), limited)


# ------------------------------------------------------------------------------------ tail targets

def test_an_unreachable_tail_names_every_p99_target_with_the_lowest_idle_figure_of_each(catalog: Catalog) -> None:
    """TPOT target = TPOT P99 target = TP8 batch 1's ``T_1`` (the lowest TPOT of the 44 rows), plus a TTFT
    P99 target of 1 s.  Only TP8 batch 1 meets the mean TPOT, and its ``ρ_max`` is 0 (any load adds other
    requests' prefills to a step).  The exclusion names both targets, joined by "and", each with the lowest
    idle P99 among the class's rows: an idle replica's P99 TTFT is its prefill ``T_p`` alone (no queue, no
    other request), lowest at TP8 = TP8 batch 1's TTFT (~2.4 ms; TP1's is ~7.5 ms); its P99 TPOT is ``T_1``."""
    best, tp1 = estimate(catalog, 8, 1), estimate(catalog, 1, 1)
    assert f"{best.ttft_ms:.1f}" != f"{tp1.ttft_ms:.1f}"
    sc = scenario(workload={"tpot_ms": best.tpot_ms, "tpot_p99_ms": best.tpot_ms, "ttft_p99_ms": 1000})
    cs = build_candidates(sc, catalog)
    [tail] = [e for e in cs.exclusions if e.family == "latency"]
    assert tail.subject == "class a: 1 deployments meeting the means"
    assert tail.reason == (f"no load meets TTFT P99 1000 ms (lowest unloaded P99 {best.ttft_ms:.1f} ms) and "
                           f"TPOT P99 {best.tpot_ms:.10g} ms (lowest unloaded P99 {best.tpot_ms:.2f} ms)")
    assert not cs.deployments.latency_ok.any()
    # the same with TTFT: mean and P99 TTFT targets at TP8 batch 1's TTFT ``T_p`` (only that row meets the
    # mean; any load queues a prefill: ρ_max = 0), a P99 TPOT target of 200 ms beside the mean's 100 ms: the
    # reason gives each target's own P99 figure (200, not the mean's 100)
    both = build_candidates(scenario(workload={"ttft_ms": best.ttft_ms, "ttft_p99_ms": best.ttft_ms,
                                               "tpot_p99_ms": 200}), catalog)
    [tail] = [e for e in both.exclusions if e.family == "latency"]
    assert tail.subject == "class a: 1 deployments meeting the means"
    assert tail.reason == (f"no load meets TTFT P99 {best.ttft_ms:.10g} ms (lowest unloaded P99 {best.ttft_ms:.1f} ms) "
                           f"and TPOT P99 200 ms (lowest unloaded P99 {best.tpot_ms:.2f} ms)")


# ------------------------------------------------------------------------------------ measured rows

def measured_tp1() -> dict[str, Any]:
    """A measured capacity of 10 requests/s per TP1 replica of the plain model (BF16) on H100-SXM, class ``a``."""
    return {"hardware": "h100-sxm", "workload": "a", "requests_per_s": 10, "tp": 1, "source": "bench"}


@pytest.mark.parametrize(("techniques", "settings"), [
    ({"kv_quantization": ["none", "kv-fp8"]}, {}),  # same weights and precision, KV cache in FP8
    ({"quantization": ["none", "fp8"]}, {}),  # another precision (and its FP8 KV cache)
    ({"quantization": ["none", "w4a16"]}, {}),  # another precision, the same BF16 KV cache as BF16's
    ({"swap": ["none", "llama-3-8b"]}, {}),  # another model
    ({"caching": ["none", "semantic"]}, {"caching": {"semantic_hit_rate": 0.1}}),  # embedding FLOPs per request
])
def test_a_measurement_of_the_plain_model_describes_only_the_plain_variant(
        catalog: Catalog, techniques: dict[str, list[str]], settings: dict[str, Any]) -> None:
    """A measurement holds for a profile of the same model, precision and KV cache, the whole prompt
    prefilled and nothing extra per request.  Each of these options changes one of those, so its variant
    keeps its 44 roofline rows exactly as without the measurement (none measured), while the baseline is
    served at the measured TP1 only (one latency-feasible row, measured, at 10 requests/s)."""
    def build(extra: dict[str, Any]) -> Any:
        return build_candidates(scenario(techniques=techniques, technique_settings=settings,
                                         quality={"max_drop": 100.0}, **extra), catalog)

    cs, plain = build({"measured": [measured_tp1()]}), build({})
    t = cs.deployments
    assert t.measured is not None and len(cs.variants) == 2
    base = next(v.index for v in cs.variants if v.is_baseline)
    other = 1 - base
    [j] = np.flatnonzero(t.measured)
    assert (t.variant[j], t.tp[j], t.batch_requested[j]) == (base, 1.0, 0.0)
    assert t.result.requests_per_s[j] == 10.0 and np.flatnonzero(t.latency_ok & (t.variant == base)).tolist() == [j]
    mine = t.variant == other
    assert int(mine.sum()) == 44
    np.testing.assert_array_equal(t.latency_ok[mine], plain.deployments.latency_ok[plain.deployments.variant == other])
    np.testing.assert_array_equal(t.result.requests_per_s[mine],
                                  plain.deployments.result.requests_per_s[plain.deployments.variant == other])


# ---------------------------------------------------------------------------- infeasibility diagnosis

def test_each_unreachable_mean_target_names_its_own_best_row(catalog: Catalog) -> None:
    """4,000 + 100 tokens on L4 and A10G (TP8 batch 1 best on each, as in the hand-figure test): L4 has
    the lower TTFT (~250 ms vs ~329 ms), A10G the lower TPOT (~5.9 ms vs ~10.3 ms).  Targets of 1 ms each
    are both unreachable: the TTFT part names L4's row (0 decimals), the TPOT part A10G's (1 decimal), and
    the best achievable pairs L4's TTFT (1 decimal) with A10G's TPOT (2 decimals)."""
    l4, a10g = (planner.estimate("llama-3.1-8b", hw, tp=8, batch=1, input_tokens=4000, output_tokens=100,
                                 catalog=catalog) for hw in ("l4", "a10g"))
    assert l4.ttft_ms < a10g.ttft_ms and a10g.tpot_ms < l4.tpot_ms
    sc = scenario(workload={"input_tokens": 4000, "ttft_ms": 1, "tpot_ms": 1}, market={"hardware": ["l4", "a10g"]})
    [finding] = latency_and_quality_checks(sc, build_candidates(sc, catalog), [None])
    assert finding.family == "latency" and finding.workload == "a"
    assert finding.requirement == "TTFT <= 1 ms, TPOT <= 1 ms"
    assert finding.best_achievable == f"TTFT {l4.ttft_ms:.1f} ms, TPOT {a10g.tpot_ms:.2f} ms"
    assert finding.message == (f"class a: TTFT 1 ms is unreachable: best achievable {l4.ttft_ms:.0f} ms "
                               f"(l4, baseline, TP8, batch 1); TPOT 1 ms is unreachable: best achievable "
                               f"{a10g.tpot_ms:.1f} ms (a10g, baseline, TP8, batch 1)")


def test_a_row_in_words_shows_the_batch_it_runs_not_the_one_requested(catalog: Catalog) -> None:
    """The last rung of the ladder asks for "the largest batch that fits" (requested 0); the row's words
    give the batch it runs, the estimator's largest batch at TP1."""
    cs = build_candidates(scenario(), catalog)
    largest = estimate(catalog, 1, 0).batch
    assert largest > 0  # not the 0 requested
    assert where(cs, row(cs, 1, 0)) == f"h100-sxm, baseline, TP1, batch {largest}"


def test_a_quality_finding_states_the_floor_and_the_best_row_to_two_decimals(catalog: Catalog) -> None:
    """A 2 ms TPOT target leaves FP8 rows at TP8 only (BF16's best TPOT is ~2.15 ms; FP8 at TP4 batch 1 is
    above 2 ms too), the first of them batch 1.  A floor at the base score (Llama-3.1-8B's MMLU) is
    unreachable: requirement and message give the floor and FP8's score to 2 decimals, at that row."""
    fp8 = {tp: planner.estimate("llama-3.1-8b", "h100-sxm", tp=tp, batch=1, precision="fp8", input_tokens=100,
                                output_tokens=100, catalog=catalog) for tp in (4, 8)}
    assert fp8[8].tpot_ms <= 2.0 < fp8[4].tpot_ms
    sc = scenario(workload={"tpot_ms": 2.0}, techniques={"quantization": ["none", "fp8"]}, quality={"max_drop": 100.0})
    cs = build_candidates(sc, catalog)
    base = next(v.profiles["a"].quality_score for v in cs.variants if v.is_baseline)
    q8 = next(v.profiles["a"].quality_score for v in cs.variants if v.name == "quantization:fp8")
    assert base is not None and q8 is not None
    [finding] = latency_and_quality_checks(sc, cs, [base])
    assert finding.requirement == f"mmlu >= {base:.2f}"
    assert finding.message == (f"class a: quality floor {base:.2f} is unreachable at its latency targets: best mmlu "
                               f"among latency-feasible deployments is {q8:.2f} (h100-sxm, quantization:fp8, TP8, "
                               "batch 1)")


# ------------------------------------------------------------------------------------------ pruning

def test_each_classs_floor_is_the_base_less_its_own_or_the_scenarios_drop() -> None:
    """Base score 70, scenario drop 1: a class without its own drop has floor 69; one allowing 5 has 65;
    no base score, no floors."""
    classes = [SimpleNamespace(max_quality_drop=None), SimpleNamespace(max_quality_drop=5.0)]
    quality = SimpleNamespace(max_drop=1.0)
    assert quality_floors(classes, quality, 70.0) == [69.0, 65.0]  # type: ignore[arg-type]
    assert quality_floors(classes, quality, None) == [None, None]  # type: ignore[arg-type]


def test_a_score_at_the_floor_within_a_billionth_meets_it() -> None:
    """Floor 68: a score of exactly 68, or 68 − 1e-10 (within the 1e-9 tolerance), meets it; 68 − 1e-6 does not."""
    cs = candidates([{"a": profile(quality=q)} for q in (68.0, 68.0 - 1e-10, 68.0 - 1e-6)], ["a"])
    assert [meets_floors(cs, v, [68.0]) for v in range(3)] == [True, True, False]


def test_the_quality_interval_when_the_first_variant_scores_lower() -> None:
    """``q₂ + (q₁ − q₂) W ≥ floor``:

    * q₁ = 60, q₂ = 70, floor 64: W ≤ (64 − 70)/(60 − 70) = 0.6, so [0, 0.6];
    * q₁ = 50, q₂ = 60, floor 64: W ≤ (64 − 60)/(50 − 60) = −0.4 — none allowed, lo 0 > hi −0.4;
    * q₁ = q₂ = 60 under the floor 64: no W helps, lo = ∞;
    * q₁ = 70, q₂ = 66, floor 64 (a row given): W ≥ (64 − 66)/4 = −0.5, clipped to 0: [0, 1];
    * q₁ = 66, q₂ = 70, floor 64 (a row given): W ≤ (64 − 70)/(66 − 70) = 1.5, clipped to 1: [0, 1]."""
    lo, hi = quality_interval(np.array([60.0, 50.0, 60.0, 70.0, 66.0]), np.array([70.0, 60.0, 60.0, 66.0, 70.0]),
                              np.array([True] * 5), 64.0)
    assert lo.tolist() == [0.0, 0.0, np.inf, 0.0, 0.0]
    assert hi.tolist() == [pytest.approx(0.6), pytest.approx(-0.4), 1.0, 1.0, 1.0]


def test_an_unbounded_capacity_is_never_a_column_and_a_column_carries_its_rows_figures() -> None:
    """Rows (variant, class, hardware, TP, batch, requests/s, latency ok): an infinite capacity (a broken
    row) is dropped like a zero one; the kept row's column carries its batch and its TTFT 0.1 s and TPOT
    0.02 s in milliseconds (100 and 20), capacity 7."""
    rows = [(0, 0, 0, 1, 8, 7.0, True), (0, 0, 0, 2, 16, np.inf, True)]
    cs = candidates([{"a": profile()}], ["a"], deployments=table(rows))
    columns, stats = prune(cs, 1, [None])
    [col] = columns
    assert (col.row, col.tp, col.batch, col.capacity_rps) == (0, 1, 8, 7.0)
    assert (col.ttft_ms, col.tpot_ms) == (pytest.approx(100.0), pytest.approx(20.0))
    assert stats["after_quality"] == 1


def test_a_measured_row_shows_no_batch_and_the_classs_targets(catalog: Catalog) -> None:
    """A measurement states requests/s at the class's SLO, not a batch or latencies: its row (TP1, "largest
    that fits") carries batch 0 (unknown, not the roofline's largest batch) and the class's targets, TTFT
    1 s and TPOT 100 ms, as its latencies.  A TP of 3 has no row in the table (TPs are 1, 2, 4, …): refused."""
    cs = build_candidates(scenario(measured=[measured_tp1()]), catalog)
    t = cs.deployments
    j = row(cs, 1, 0)
    assert t.measured is not None and t.measured[j]
    assert estimate(catalog, 1, 0).batch > 0
    assert t.result.batch[j] == 0.0
    assert (t.result.ttft_s[j], t.result.tpot_s[j]) == (pytest.approx(1.0), pytest.approx(0.1))
    with pytest.raises(ScenarioError, match=r"row 0: TP3 is not a power of two \(the planner's TPs are 1, 2, 4, "
                                            r"\.\.\.\)") as err:
        build_candidates(scenario(measured=[{**measured_tp1(), "tp": 3}]), catalog)
    assert err.value.field == "measured"


def test_the_compute_dtype_label_shows_a_fallback_only_where_one_happens(catalog: Catalog) -> None:
    """An FP8 profile computes in FP8 on H100-SXM (FP8 tensor cores): ``fp8``; on A100-80GB (none) it falls
    back to BF16: ``fp8->bf16``."""
    from planner.physics.profile import base_profile

    fp8 = base_profile(catalog.models["llama-3.1-8b"], "fp8", None, catalog)
    assert fp8.compute_dtype == "fp8"
    assert cands.compute_dtype_label(fp8, catalog.hardware["h100-sxm"]) == "fp8"
    assert cands.compute_dtype_label(fp8, catalog.hardware["a100-80gb"]) == "fp8->bf16"


# ------------------------------------------------------------------------------------------- variants

class WildSettings(TechniqueSettings):
    """No settings."""


class Wild:
    """A plug-in whose one option, ``solo``, declares a conflict with every quantization option (``*``)."""

    name: ClassVar[str] = "wild"
    summary: ClassVar[str] = "a conflict by wildcard"
    order: ClassVar[int] = 95  # after quantization (30)
    Settings: ClassVar[type[TechniqueSettings]] = WildSettings

    def describe(self, catalog: Catalog) -> list[OptionInfo]:
        return [OptionInfo("solo", "solo", frozenset({Effect.SERVED_QUERIES}))]

    def options(self, ctx: Any) -> OptionSet:
        return OptionSet((Option("wild", "solo", "solo", frozenset({Effect.SERVED_QUERIES}),
                                 lambda p, w: p.changed("wild", "solo", "test",
                                                        served_query_fraction=p.served_query_fraction * 0.5),
                                 conflicts_with=frozenset({"quantization:*"})),))


def test_a_wildcard_conflict_excludes_every_option_of_the_technique(catalog: Catalog) -> None:
    """``wild:solo`` conflicts with ``quantization:*``: of quantization {none, fp8, int8} × wild {none, solo},
    solo + fp8 and solo + int8 are excluded (the ``none`` of quantization is no option), 4 variants remain.
    The reason names the pair in registry order (quantization first)."""
    registry = Registry()
    for technique in default_registry().ordered():
        registry.register(technique)
    registry.register(Wild())
    cs = build_candidates(scenario(techniques={"quantization": ["none", "fp8", "int8"], "wild": ["none", "solo"]},
                                   quality={"max_drop": 100.0}), catalog, registry)
    assert sorted(v.name for v in cs.variants) == ["baseline", "quantization:fp8", "quantization:int8", "wild:solo"]
    assert [v.name for v in cs.variants if v.is_baseline] == ["baseline"]  # every option at none, not just one
    clashes = sorted((e.subject, e.reason) for e in cs.exclusions if e.family == "conflict")
    assert clashes == [("quantization:fp8 + wild:solo", "quantization:fp8 conflicts with wild:solo"),
                       ("quantization:int8 + wild:solo", "quantization:int8 conflicts with wild:solo")]


def test_a_listed_option_the_technique_cannot_offer_is_an_input_error(catalog: Catalog) -> None:
    """Semantic caching needs a hit rate, which has no default: listing it is bad input quoting the reason
    (left unlisted, it is only an "unavailable" exclusion — the hand-figure test)."""
    with pytest.raises(ScenarioError, match=r"option 'semantic' cannot be offered: needs "
                                            r"technique_settings.caching.semantic_hit_rate") as err:
        build_candidates(scenario(techniques={"caching": ["none", "semantic"]}), catalog)
    assert err.value.field == "techniques.caching"


def test_settings_for_an_unknown_technique_are_refused(catalog: Catalog) -> None:
    """``technique_settings`` naming no technique is bad input at that field, as an unknown
    ``techniques`` entry is."""
    with pytest.raises(ScenarioError, match="unknown technique 'cachng'") as err:
        build_candidates(scenario(technique_settings={"cachng": {}}), catalog)
    assert err.value.field == "technique_settings.cachng"


def test_the_variant_limit_names_the_two_techniques_with_the_most_options(catalog: Catalog) -> None:
    """quantization {none, fp8, int8} (3) × caching {none, prefix} (2) × the others at {none} (1) = 6 > a
    limit of 5: the message asks for fewer options of the two widest, quantization (3) then caching (2)."""
    sc = scenario(workload={"shared_prefix_tokens": 50}, technique_settings={"caching": {"distinct_prefixes": 1}},
                  techniques={"quantization": ["none", "fp8", "int8"], "caching": ["none", "prefix"]},
                  quality={"max_drop": 100.0})
    limited = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_variant_combinations": 5}))
    with pytest.raises(ScenarioError, match=r"6 combinations of technique options exceed the planner's limit of 5; "
                                            r"allow fewer options of quantization \(3\) and caching \(2\)$"):
        build_candidates(sc, limited)


# ------------------------------------------------------------------------------------ pair bounds

def test_a_pair_no_split_of_which_meets_the_floor_is_never_visited() -> None:
    """Floor 75, one period, F₀ = 1, F₁ = 2.  Scores 60 and 70: every blend is at most 70 < 75 (W ≤ −0.5),
    so LB = ∞.  Variant 0 unscored beside variant 1 at 70: the quality row exists (70 is below) and counts
    the missing score as the floor (``pruning.row_score``, since 2026-12-07; it counted 0, and the pair read
    as impossible): 75·W + 70·(1 − W) ≥ 75 allows W = 1 only, LB = 1 + 2 + 10 = 13."""
    from planner.optimize import pairs

    ell = {(0, 0): np.array([10.0]), (1, 0): np.array([20.0])}
    assert pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [60.0], 1: [70.0]}, [75.0], 1) \
        == {(0, 1): np.inf}
    assert pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [None], 1: [70.0]}, [75.0], 1) \
        == {(0, 1): 13.0}


def test_a_pair_whose_second_variant_cannot_serve_a_class_bounds_it_by_the_first() -> None:
    """No floor; variant 1 has no column for the class (ℓ₁ = ∞): the whole class goes to variant 0 (W = 1),
    LB = F₀ + F₁ + Σ_p ℓ₀ = 1 + 2 + (8 + 9) = 20 — the zero weight of ℓ₁ ignores it (not ∞ × 0 = NaN)."""
    from planner.optimize import pairs

    ell = {(0, 0): np.array([8.0, 9.0])}
    bound = pairs.pair_lower_bounds(ell, [0, 1], {0: 1.0, 1: 2.0}, {0: [None], 1: [None]}, [None], periods=2)
    assert bound[(0, 1)] == pytest.approx(20.0)


def test_pairs_of_equal_bound_are_visited_in_variant_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three variants of equal ℓ = 10,000 $ and no fixed costs: every pair's bound is 10 k$, below the
    cutoff 100·(1 − 0.01) = 99 k$; one proof at a time, ties in (v₁, v₂) order: (0, 1), (0, 2), (1, 2)."""
    from planner.optimize import pairs
    from tests.optimize.test_solver_hand_figures import (
        fake_data,
        outcome,
        scripted_pairs,
        tiny_model,
    )

    data = fake_data(traffic_kusd={0: None, 1: None, 2: None}, one_time_kusd={0: 0.0, 1: 0.0, 2: 0.0},
                     fixed_kusd={0: 0.0, 1: 0.0, 2: 0.0}, quality={0: [None], 1: [None], 2: [None]}, floors=[None],
                     periods=1)
    cut = (tiny_model([1.0]), False, outcome(SolveStatus.CUTOFF))
    calls = scripted_pairs(monkeypatch, {(0, 1): cut, (0, 2): cut, (1, 2): cut})
    ell = {(v, 0): np.array([10_000.0]) for v in range(3)}
    result = pairs.screen_pairs(data, ell, 100_000.0, solvers.Deadline(60.0), 0.01, 1)
    assert [pair for pair, _cutoff in calls] == [(0, 1), (0, 2), (1, 2)]
    assert result.pair is None and result.proven


def test_an_unknown_technique_quotes_only_its_own_plug_ins_load_error(catalog: Catalog) -> None:
    """A scenario naming ``toy`` when the plug-in registered as ``toy`` failed to load: the error quotes that
    load error.  When only ``mytoy`` failed (a label that contains "toy" but is not toy's), the error lists
    the known techniques instead."""
    def refused(label: str) -> str:
        registry = Registry()
        for technique in default_registry().ordered():
            registry.register(technique)
        registry.load_errors[label] = "failed to import: ImportError: boom"
        with pytest.raises(ScenarioError) as err:
            build_candidates(scenario(techniques={"toy": ["none"]}), catalog, registry)
        assert err.value.field == "techniques.toy"
        return str(err.value.args[0])

    assert refused("toy (pkg.mod:Toy)") == ("unknown technique 'toy' (plug-in failed to load: toy (pkg.mod:Toy): "
                                            "failed to import: ImportError: boom)")
    assert refused("mytoy (pkg.mod:Toy)").startswith("unknown technique 'toy'; known: ['caching', ")


def test_a_combination_an_option_cannot_apply_to_is_excluded_naming_the_option(catalog: Catalog) -> None:
    """On Llama-3.1-70B, FP4 is offered (the catalog has its retention for large models), but a swap to
    Llama-3.1-8B then FP4 needs the retention for small models, which the catalog lacks: the combination
    is "incompatible", its reason led by the option that refused (``quantization:fp4: ``); the other three
    combinations are variants."""
    from planner.optimize.variants import build_variants

    sc = scenario(model="llama-3.1-70b", techniques={"swap": ["none", "llama-3.1-8b"], "quantization": ["none", "fp4"]},
                  quality={"max_drop": 100.0})
    _model, _score, variants, _options, exclusions = build_variants(sc, catalog)
    assert sorted(v.name for v in variants) == ["baseline", "quantization:fp4", "swap:llama-3.1-8b"]
    [refused] = [e for e in exclusions if e.family == "incompatible"]
    assert refused.subject == "swap:llama-3.1-8b + quantization:fp4"
    assert refused.reason.startswith("quantization:fp4: llama-3.1-8b: no published quality retention for 'fp4' "
                                     "on small models")


@pytest.mark.parametrize(("units", "families"), [(4.000005, ["caps"]), (4.0001, ["quota"]), (5.0, ["quota"])])
def test_a_quota_is_named_only_beyond_the_verification_tolerance(monkeypatch: pytest.MonkeyPatch, units: float,
                                                                 families: list[str]) -> None:
    """The uncapped plan (stubbed, $1,000) has ``units`` single-GPU units of h100-sxm in service against a
    quota of 4.  4.000005 is 4 plus solver noise (within the 1e-5 tolerance): no quota need, so the caps
    together are named; 4.0001 and 5 are over it: the quota is named."""
    from planner.economics.offers import ModeOffer
    from planner.optimize import infeasibility
    from planner.optimize.solver import SolveOutcome

    offers = [ModeOffer(hardware=0, mode="on-demand", cost_usd=np.zeros(1), covers=np.ones((1, 1), dtype=bool),
                        power_kw=0.0, breakdown={}, source="hand")]
    relaxed = SimpleNamespace(prob=SimpleNamespace(objective=1.0), offers=offers,
                              n={(0, 0): SimpleNamespace(value=lambda: units)})
    monkeypatch.setattr(infeasibility, "build_problem", lambda *a, **k: relaxed)
    done = SolveOutcome(SolveStatus.OPTIMAL, "highs", 0.1, 0.0, "optimal")
    monkeypatch.setattr(infeasibility, "solvers", SimpleNamespace(run=lambda *a, **k: done))
    sc = SimpleNamespace(market=SimpleNamespace(quota_gpus={"h100-sxm": 4}, budget_usd=None, power_cap_kw=None),
                         solver=SimpleNamespace(threads=None))
    cs = SimpleNamespace(hardware=[SimpleNamespace(slug="h100-sxm")])
    findings = infeasibility.diagnose_caps(sc, cs, [], offers, None, None, {}, [None], "highs", 10.0, 0.0)
    assert [f.family for f in findings] == families


def test_the_closest_row_minimises_the_worse_ratio_not_the_sum(catalog: Catalog) -> None:
    """4,000 + 100 tokens, TP8 batch 1 (the lowest TTFT and TPOT on each board): L4 ~250 ms / ~10.3 ms,
    A10G ~329 ms / ~5.86 ms.  Targets TTFT 300 ms (L4 meets it) and TPOT 10 ms (A10G meets it), never both.
    Worse ratio: L4 max(250/300, 10.3/10) = 1.03 < A10G max(329/300, 5.86/10) = 1.10, so L4 is the closest —
    although the sums rank them the other way (L4 0.83 + 1.03 = 1.86 > A10G 1.10 + 0.59 = 1.68)."""
    l4, a10g = (planner.estimate("llama-3.1-8b", hw, tp=8, batch=1, input_tokens=4000, output_tokens=100,
                                 catalog=catalog) for hw in ("l4", "a10g"))
    assert l4.ttft_ms <= 300 < a10g.ttft_ms and a10g.tpot_ms <= 10 < l4.tpot_ms
    assert max(l4.ttft_ms / 300, l4.tpot_ms / 10) < max(a10g.ttft_ms / 300, a10g.tpot_ms / 10)
    assert l4.ttft_ms / 300 + l4.tpot_ms / 10 > a10g.ttft_ms / 300 + a10g.tpot_ms / 10
    sc = scenario(workload={"input_tokens": 4000, "ttft_ms": 300, "tpot_ms": 10}, market={"hardware": ["l4", "a10g"]})
    cs = build_candidates(sc, catalog)
    res = cs.deployments.result
    for h, best in enumerate((l4, a10g)):  # hardware order by price: L4 ($0.80) then A10G ($1.01)
        on = (cs.deployments.hardware == h) & res.fits  # rows that fit (the others have no latency)
        assert res.ttft_s[on].min() * 1000 == pytest.approx(best.ttft_ms, rel=1e-9)
        assert res.tpot_s[on].min() * 1000 == pytest.approx(best.tpot_ms, rel=1e-9)
    [finding] = latency_and_quality_checks(sc, cs, [None])
    assert finding.message == (f"class a: no deployment meets TTFT 300 ms and TPOT 10 ms together: closest "
                               f"{l4.ttft_ms:.0f} ms / {l4.tpot_ms:.1f} ms (l4, baseline, TP8, batch 1)")


def test_the_training_hardware_must_be_in_the_catalog(catalog: Catalog) -> None:
    """One-time work is priced on ``training.hardware``: a slug the catalog lacks is bad input at that field."""
    with pytest.raises(InputError) as err:
        build_candidates(scenario(training={"hardware": "h100-sxmx"}), catalog)
    assert err.value.field == "training.hardware"


def test_an_option_that_changes_nothing_is_a_duplicate_of_the_baseline(catalog: Catalog) -> None:
    """Without a shared prefix, prefix caching serves the baseline's profile: a duplicate, named after the
    earlier variant it repeats, "baseline"."""
    cs = build_candidates(scenario(techniques={"caching": ["none", "prefix"]},
                                   technique_settings={"caching": {"distinct_prefixes": 1}}), catalog)
    assert [v.name for v in cs.variants] == ["baseline"]
    [dup] = [e for e in cs.exclusions if e.family == "duplicate"]
    assert (dup.subject, dup.reason) == ("caching:prefix", "same served profile as baseline")


def test_a_fit_nowhere_finding_says_memory(catalog: Catalog) -> None:
    """Llama-3.1-405B in BF16 (~810 GB) on eight 24 GB L4s (192 GB): the finding's words name memory."""
    sc = scenario(model="llama-3.1-405b", market={"hardware": ["l4"]})
    [finding] = latency_and_quality_checks(sc, build_candidates(sc, catalog), [None])
    assert (finding.requirement, finding.best_achievable) == ("fit in memory", "none")
    assert finding.message == "class a: no variant fits in memory on any allowed hardware at any TP degree"


def test_pairs_left_by_the_deadline_keep_their_bounds_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """The three-variant screening of the solver tests (pair bounds 60, 99 and 119 k$), best single plan
    100 k$, gap 1 %: cutoff 99.  With the time already spent no pair is proven; the pairs below the cutoff,
    (0, 1) at 60 only (99 is not below 99), stay open: not proven, lowest open bound 60."""
    from planner.optimize import pairs
    from tests.optimize.test_solver_hand_figures import (
        THREE_ELL,
        scripted_pairs,
        three_variants,
    )

    calls = scripted_pairs(monkeypatch, {})
    result = pairs.screen_pairs(three_variants(), THREE_ELL, 100_000.0, solvers.Deadline(0.0), 0.01, 1)
    assert calls == []
    assert result.pair is None and not result.proven
    assert result.lowest_open_bound == pytest.approx(60.0)


def test_a_badly_scaled_pair_is_left_open_without_a_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pair whose model the scaling check refuses is not solved: no model, not closed, no outcome (the
    screening then keeps its bound open)."""
    from planner.optimize import pairs

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused model is not solved")

    monkeypatch.setattr(pairs, "build", lambda data, variants: object())
    monkeypatch.setattr(pairs, "scaling_refusal", lambda model: "coefficients span 1e12")
    monkeypatch.setattr(pairs, "offer_unit_sizes", never)
    monkeypatch.setattr(pairs, "run_highs", never)
    answer = pairs._prove_pair(None, (0, 1), 99.0, solvers.Deadline(60.0), 1e-4, None)  # type: ignore[arg-type]
    assert answer == (None, False, None)


def two_classes(catalog: Catalog, **plan: Any) -> tuple[planner.Scenario, Any, list[float | None]]:
    """Class ``a`` with a 2 ms TPOT (FP8 at TP8 alone reaches it: BF16's best is ~2.15 ms) and no quality
    limit; class ``b`` with a 100 ms TPOT and no quality drop allowed (so FP8 misses its floor)."""
    data = scenario(workload={"tpot_ms": 2.0, "max_quality_drop": 100.0},
                    techniques={"quantization": ["none", "fp8"]}, **({"plan": plan} if plan else {})
                    ).model_dump(mode="json")
    data["workload"].append({**data["workload"][0], "name": "b", "tpot_ms": 100.0, "max_quality_drop": 0.0})
    sc = planner.scenario_from_dict(data)
    cs = build_candidates(sc, catalog)
    return sc, cs, quality_floors(sc.workload, sc.quality, cs.base_score)


def test_one_variant_for_every_class_is_required_where_a_plan_runs_one(catalog: Catalog) -> None:
    """Each class alone can be served (a by FP8, b by BF16), but with ``max_variants = 1`` one variant
    serves both, and none can: BF16 misses a's TPOT, FP8 b's floor (the base score).  The finding says
    so (it was reported as a price problem); with ``max_variants = 2`` there is none."""
    sc, cs, floors = two_classes(catalog)
    q8 = next(v.profiles["b"].quality_score for v in cs.variants if v.name == "quantization:fp8")
    [finding] = latency_and_quality_checks(sc, cs, floors)
    assert (finding.family, finding.workload, finding.best_achievable) == ("quality", "a", "none")
    assert f"quantization:fp8 misses class b's floor {floors[1]:.2f} ({q8:.2f})" in finding.message
    assert "plan.max_variants = 2" in finding.message
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "infeasible" and [f.family for f in plan.infeasibility] == ["quality"]
    sc2, cs2, floors2 = two_classes(catalog, max_variants=2)
    assert latency_and_quality_checks(sc2, cs2, floors2) == []


class _NoScore(TechniqueSettings):
    pass


class Unscored:
    """A plug-in whose one option drops the quality score (no built-in technique does)."""

    name: ClassVar[str] = "unscored"
    summary: ClassVar[str] = "drops the score"
    order: ClassVar[int] = 95
    Settings: ClassVar[type[TechniqueSettings]] = _NoScore

    def describe(self, catalog: Any) -> list[OptionInfo]:
        return [OptionInfo("drop", "drop", frozenset({Effect.QUALITY}))]

    def options(self, ctx: Any) -> OptionSet:
        return OptionSet((Option("unscored", "drop", "no score", frozenset({Effect.QUALITY}),
                                 lambda p, w: p.changed("unscored", "drop", "test", quality_score=None)),))


def test_a_variant_without_a_score_is_not_held_against_the_floor(catalog: Catalog) -> None:
    """The model does not hold a missing score against a variant (``meets_floors``); the diagnosis did
    (as −inf: "best mmlu … is -inf") and refused a scenario the model solves."""
    registry = Registry()
    for technique in default_registry().ordered():
        registry.register(technique)
    registry.register(Unscored())  # type: ignore[arg-type]
    sc = scenario(techniques={"unscored": ["drop"]})
    cs = build_candidates(sc, catalog, registry)
    assert [v.profiles["a"].quality_score for v in cs.variants] == [None]
    assert latency_and_quality_checks(sc, cs, quality_floors(sc.workload, sc.quality, cs.base_score)) == []
