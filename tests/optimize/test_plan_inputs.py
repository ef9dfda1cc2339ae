"""What a plan takes from the scenario beyond its deployments' physics: the engine's batch cap
(``plan.max_batch``, else the catalog's ``max_batch``), the variants a quality floor rules out (named
among the exclusions) and the warning for a growth typed in percent.  The scenario and helpers are
:mod:`tests.optimize.test_candidates_hand_figures`'s (one class on Llama-3.1-8B, H100-SXM, rented)."""

from __future__ import annotations

import dataclasses

import pytest

import planner

from planner.catalog.store import Catalog
from planner.optimize.candidates import build_candidates
from planner.optimize.planning import plan_scenario
from tests.optimize.test_candidates_hand_figures import H100_TPS, estimate, row, scenario


def test_the_engines_cap_bounds_every_batch_of_the_plan(catalog: Catalog) -> None:
    """``plan.max_batch`` (else the catalog's ``max_batch``) caps the ladder and the "largest that fits"
    rung alike: at 64, the rungs 128, 256 and 512 are out and the last rung's batch is 64 wherever more
    fits (its figures the estimator's at batch 64); a catalog cap of 128 does the same through an
    overlay's default.  The plan follows: its replicas run at most 64 sequences."""
    cs = build_candidates(scenario(plan={"max_batch": 64}), catalog)
    t, res = cs.deployments, cs.deployments.result
    assert t.latency_ok.tolist() == (t.batch_requested <= 64).tolist()
    for tp in H100_TPS:
        i, e = row(cs, tp, 0), estimate(catalog, tp, 64)
        assert res.batch[i] == 64 and res.requests_per_s[i] == pytest.approx(e.requests_per_s_per_replica, rel=1e-12)
    capped = dataclasses.replace(catalog, defaults=catalog.defaults.model_copy(update={"max_batch": 128}))
    t = build_candidates(scenario(), capped).deployments
    assert t.latency_ok.tolist() == (t.batch_requested <= 128).tolist()
    assert t.result.batch[row(build_candidates(scenario(), capped), 1, 0)] == 128
    plan = plan_scenario(scenario(workload={"queries_per_day": 86_400 * 200}, plan={"max_batch": 64}), catalog)
    assert plan.status == "optimal" and plan.serving and max(s.batch for s in plan.serving) <= 64


def test_a_variant_below_a_quality_floor_is_named_with_its_score_and_the_floor(catalog: Catalog) -> None:
    """W4A16 keeps 0.9748 of Llama-3.1-8B's MMLU (69.40 → 67.65): 1.75 points down, under a 1-point
    floor (68.40) a plan of one variant cannot run it, and its exclusions say so (one per class);
    with ``max_variants = 2`` it may serve beside BF16, so it is not excluded."""
    from planner.optimize.pruning import quality_exclusions, quality_floors

    sc = scenario(techniques={"quantization": ["none", "w4a16"]}, quality={"max_drop": 1.0})
    cs = build_candidates(sc, catalog)
    floors = quality_floors(sc.workload, sc.quality, cs.base_score)
    [e] = quality_exclusions(cs, floors, 1)
    score = next(v for v in cs.variants if v.name == "quantization:w4a16").profiles["a"].quality_score
    assert cs.base_score is not None and score == pytest.approx(cs.base_score * 0.9748, abs=0.005)
    assert (e.family, e.subject, e.reason) == ("quality", "quantization:w4a16 for a",
                                               f"quality {score:.2f} below the floor {cs.base_score - 1:.2f}")
    assert quality_exclusions(cs, floors, 2) == []
    assert plan_scenario(sc, catalog).exclusions == {"quality": 1}


def test_a_growth_given_in_percent_is_warned_about(catalog: Catalog) -> None:
    """``growth_per_year = 50`` (meant as 50 %) plans +5,000 % a year: the plan says so; 10 (+1,000 %,
    the threshold) does not."""
    warned = plan_scenario(scenario(horizon={"months": 12, "period_months": 3, "growth_per_year": 50}), catalog)
    assert "horizon.growth_per_year = 50 is +5000% a year (it is a fraction: 0.5 is +50 %); check it was not " \
           "given in percent" in warned.warnings
    quiet = plan_scenario(scenario(horizon={"months": 12, "period_months": 3, "growth_per_year": 10}), catalog)
    assert not any("growth_per_year" in w for w in quiet.warnings)


@pytest.mark.parametrize(("over", "peak"), [({"workload": {"profile": [1.0] * 12 + [3.0] * 12}}, 1.5),
                                            ({"horizon": {"months": 12, "period_months": 3, "peak_to_average": 2.0}},
                                             2.0),
                                            ({}, 1.0)])
def test_a_class_summary_reports_the_rate_it_peaks_at(catalog: Catalog, over: dict[str, dict[str, object]],
                                                      peak: float) -> None:
    """1 request/s on average: a profile of 1 and 3 (mean 2) peaks at 1.5/s in its busiest hour, the
    class summary's ``peak_requests_per_s_first_period`` (until 2026-12-08 a shaped class reported its
    mean, 1/s); ``peak_to_average = 2`` peaks at 2/s; a flat class at 1/s."""
    [a] = plan_scenario(scenario(**over), catalog).classes
    assert a.peak_requests_per_s_first_period == pytest.approx(peak, rel=1e-12)


def test_classes_served_only_by_different_variants_are_infeasible_not_a_crash(  # type: ignore[no-untyped-def]
        catalog) -> None:
    """The demo with chat's TTFT at 11.4 ms: only a distilled Llama-2 student (FP8) meets it, and its 4,096-token
    context cannot hold summarise's 4,300-token requests, which the base model's variants serve.  Each class
    has a variant meeting every floor, but not the same one: infeasible (exit 3) naming both sides.  It
    crashed (StopIteration, exit 1), and a break-even over the TTFT target with it."""
    sc = planner.load_scenario(planner.demo_scenario_path(), ["horizon.months=12", "workload.chat.ttft_ms=11.4"])
    plan = planner.plan(sc, catalog=catalog)
    assert plan.status == "infeasible"
    [finding] = plan.infeasibility
    assert finding.requirement.startswith(
        "one variant meeting every class's quality floor, latency targets and context")
    assert "chat only with distillation:llama-2-70b" in finding.message
    assert "summarise only with baseline" in finding.message and "plan.max_variants = 2" in finding.message
