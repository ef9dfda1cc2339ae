"""The scenario models' bounds, defaults and cross-field rules, pinned where a mutation review of
``planner/scenario/schema.py``, ``shapes.py`` and ``types.py`` found them unchecked.

Every bound is read off its ``Field`` declaration (``ge``/``gt``/``le``/``lt``, the contract the
module docstring states: "bounds every number") and checked at the bound itself: a value *at* an
inclusive bound is accepted, the next representable value past it is refused naming the field path
(exit 2); at an exclusive bound the bound itself is refused.  Defaults are those the README and the
field descriptions state.  Nothing here plans: every check is pydantic validation of a small dict
(``scenario_from_dict``) or of one sub-model.
"""

from __future__ import annotations

import math
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

import planner
from planner.errors import EXIT_BAD_INPUT, ScenarioError
from planner.scenario.loading import validate_scenario
from planner.scenario.schema import (
    MAX_MARKET_HARDWARE,
    MAX_NAME_LENGTH,
    MAX_PROFILE_WEIGHT,
    Buckets,
    Distribution,
    Measured,
    Scenario,
    SweepTable,
    scenario_json_schema,
)

UP, DOWN = math.inf, -math.inf


def past(bound: float, direction: float = UP) -> float:
    """The next float beyond ``bound`` (the smallest step outside an inclusive bound)."""
    return math.nextafter(bound, direction)


def chat(**over: Any) -> dict[str, Any]:
    """One request class: 500 prompt + 150 output tokens, 5e5 a day, 1500 ms TTFT, 60 ms TPOT."""
    return {"name": "chat", "queries_per_day": 5e5, "input_tokens": 500, "output_tokens": 150,
            "ttft_ms": 1500, "tpot_ms": 60, **over}


def data(**over: Any) -> dict[str, Any]:
    """A small scenario dict: one class, 6 months in quarters, H100 only."""
    out: dict[str, Any] = {"schema_version": 1, "name": "mut", "model": {"base": "llama-3.1-8b"},
                           "workload": [chat()], "horizon": {"months": 6, "period_months": 3},
                           "market": {"hardware": ["h100-sxm"]}}
    out.update(over)
    return out


def accepted(raw: dict[str, Any]) -> Scenario:
    return planner.scenario_from_dict(raw)


def refused(raw: dict[str, Any]) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        planner.scenario_from_dict(raw)
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert "Traceback" not in str(info.value)
    return info.value


def with_value(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """``data()`` with ``value`` at ``path`` (tables created on the way; ``0`` = the class chat)."""
    raw = data()
    node: Any = raw
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[path[-1]] = value
    return raw


def field_of(path: tuple[Any, ...]) -> str:
    """The field path an error names: ``("workload", 0, "ttft_ms")`` -> ``workload[chat].ttft_ms``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out[-1] += "[chat]"
        else:
            out.append(part)
    return ".".join(out)


# --------------------------------------------------------------------------- every bound, at the bound

W = "workload"
LE, GE, GT, LT = "less than or equal to", "greater than or equal to", "greater than", "less than"
#: (path, value, None = accepted | the reason fragment of the refusal).  The lower and upper bound of
#: each field come from its Field(...) declaration in planner/scenario/schema.py.
BOUNDS: list[tuple[tuple[Any, ...], Any, str | None]] = [
    # [model]: base is 1-4096 characters; training_cost_usd in [0, 1e12]; training_tokens in (0, 1e16]
    (("model", "base"), "", "at least 1 character"),
    (("model", "base"), "b" * 4096, None),
    (("model", "base"), "b" * 4097, "at most 4096 characters"),
    (("model", "training_cost_usd"), 0.0, None),
    (("model", "training_cost_usd"), 1e12, None),
    (("model", "training_cost_usd"), past(1e12), LE),
    (("model", "training_tokens"), 0.0, GT),
    (("model", "training_tokens"), 1e16, None),
    (("model", "training_tokens"), past(1e16), LE),
    # [quality]: metric lower-case; max_drop and base_score in [0, 100]
    (("quality", "metric"), "mmlu-pro_v1.2", None),
    (("quality", "metric"), "mmlU", "pattern"),
    (("quality", "metric"), "m" * MAX_NAME_LENGTH, None),
    (("quality", "metric"), "m" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH} characters"),
    (("quality", "max_drop"), 100.0, None),
    (("quality", "max_drop"), past(100.0), LE),
    (("quality", "base_score"), 0.0, None),
    (("quality", "base_score"), 100.0, None),
    (("quality", "base_score"), past(100.0), LE),
    # [[workload]]
    ((W, 0, "queries_per_day"), 1e13, None),
    ((W, 0, "queries_per_day"), past(1e13), LE),
    ((W, 0, "input_tokens"), 1, None),
    ((W, 0, "input_tokens"), 0, GE),
    ((W, 0, "input_tokens"), 10_000_000, None),
    ((W, 0, "input_tokens"), 10_000_001, LE),
    ((W, 0, "output_tokens"), 1_000_000, None),
    ((W, 0, "output_tokens"), 1_000_001, LE),
    ((W, 0, "ttft_ms"), 1.0, None),
    ((W, 0, "ttft_ms"), past(1.0, DOWN), GE),
    ((W, 0, "ttft_ms"), 3_600_000.0, None),
    ((W, 0, "ttft_ms"), past(3_600_000.0), LE),
    ((W, 0, "tpot_ms"), 0.1, None),
    ((W, 0, "tpot_ms"), 60_000.0, None),
    ((W, 0, "tpot_ms"), past(60_000.0), LE),
    ((W, 0, "shared_prefix_tokens"), 0, None),
    ((W, 0, "shared_prefix_tokens"), -1, GE),
    ((W, 0, "repeat_rate"), 0.0, None),
    ((W, 0, "repeat_rate"), past(1.0, DOWN), None),
    ((W, 0, "repeat_rate"), 1.0, LT),
    ((W, 0, "max_quality_drop"), 0.0, None),
    ((W, 0, "max_quality_drop"), 100.0, None),
    ((W, 0, "max_quality_drop"), past(100.0), LE),
    ((W, 0, "min_replicas"), 0, None),
    ((W, 0, "min_replicas"), 10_000, None),
    ((W, 0, "min_replicas"), 10_001, LE),
    ((W, 0, "ttft_p99_ms"), 3_600_000.0, None),
    ((W, 0, "ttft_p99_ms"), past(3_600_000.0), LE),
    ((W, 0, "tpot_p99_ms"), 60_000.0, None),
    ((W, 0, "tpot_p99_ms"), past(60_000.0), LE),
    ((W, 0, "deadline_hours"), 1.0, None),
    ((W, 0, "deadline_hours"), past(1.0, DOWN), GE),
    ((W, 0, "deadline_hours"), 168.0, None),  # a week
    ((W, 0, "deadline_hours"), past(168.0), LE),
    # [horizon] (months 6, period 3 unless set): growth in [-0.99, 100], peak in [1, 100], discount in [0, 1]
    (("horizon", "growth_per_year"), -0.99, None),
    (("horizon", "growth_per_year"), past(-0.99, DOWN), GE),
    (("horizon", "growth_per_year"), 100.0, None),
    (("horizon", "growth_per_year"), past(100.0), LE),
    (("horizon", "peak_to_average"), 100.0, None),
    (("horizon", "peak_to_average"), past(100.0), LE),
    (("horizon", "peak_to_average"), past(1.0, DOWN), GE),
    (("horizon", "discount_rate_per_year"), 1.0, None),
    (("horizon", "discount_rate_per_year"), past(1.0), LE),
    # [market]
    (("market", "modes"), [], "at least 1 item"),
    (("market", "quota_gpus", "h100-sxm"), 0, None),
    (("market", "quota_gpus", "h100-sxm"), 10_000_000, None),
    (("market", "quota_gpus", "h100-sxm"), 10_000_001, LE),
    (("market", "power_cap_kw"), 0.0, GT),
    (("market", "power_cap_kw"), 1e7, None),
    (("market", "power_cap_kw"), past(1e7), LE),
    (("market", "budget_usd"), 1e13, None),
    (("market", "budget_usd"), past(1e13), LE),
    (("market", "electricity_usd_per_kwh"), 0.0, None),
    (("market", "electricity_usd_per_kwh"), 10.0, None),
    (("market", "electricity_usd_per_kwh"), past(10.0), LE),
    (("market", "pue"), 1.0, None),
    (("market", "pue"), past(1.0, DOWN), GE),
    (("market", "pue"), 5.0, None),
    (("market", "pue"), past(5.0), LE),
    (("market", "hosting_usd_per_kw_month"), 10_000.0, None),
    (("market", "hosting_usd_per_kw_month"), past(10_000.0), LE),
    (("market", "price_scale"), 1000.0, None),
    (("market", "price_scale"), past(1000.0), LE),
    (("market", "gpus_per_unit", "buy"), 1024, None),
    (("market", "gpus_per_unit", "buy"), 1025, LE),
    (("market", "providers"), [], "at least 1 item"),
    (("market", "providers"), [f"p{i}" for i in range(100)], None),
    (("market", "providers"), [f"p{i}" for i in range(101)], "at most 100 items"),
    (("market", "useful_life_years"), 0.0, GT),
    (("market", "useful_life_years"), 30.0, None),
    (("market", "useful_life_years"), past(30.0), LE),
    (("market", "resale_fraction"), 0.0, None),
    (("market", "resale_fraction"), 1.0, None),
    (("market", "resale_fraction"), past(1.0), LE),
    (("market", "lead_time_months", "buy"), 0, None),
    (("market", "lead_time_months", "buy"), 241, LE),
    (("market", "operations_fraction_per_year"), 1.0, None),
    (("market", "operations_fraction_per_year"), past(1.0), LE),
    (("market", "annual_failure_rate"), 1.0, None),
    (("market", "annual_failure_rate"), past(1.0), LE),
    (("market", "repair_days"), 365.0, None),
    (("market", "repair_days"), past(365.0), LE),
    (("market", "elastic_min_billed_hours"), 24.0, None),
    (("market", "elastic_min_billed_hours"), past(24.0), LE),
    (("market", "reserved_discount", "reserved-1y"), 0.0, None),
    (("market", "reserved_discount", "reserved-3y"), past(1.0, DOWN), None),
    (("market", "reserved_discount", "reserved-3y"), 1.0, LT),
    (("market", "spot_discount"), 0.0, None),
    (("market", "spot_discount"), past(1.0, DOWN), None),
    (("market", "spot_discount"), 1.0, LT),
    (("market", "spot_preemption_per_hour"), 1.0, None),
    (("market", "spot_preemption_per_hour"), past(1.0), LE),
    (("market", "spot_restart_hours"), 0.0, None),
    (("market", "spot_restart_hours"), 24.0, None),
    (("market", "spot_restart_hours"), past(24.0), LE),
    # [training]: mfu in (0, 1]
    (("training", "mfu"), 0.0, GT),
    (("training", "mfu"), 1.0, None),
    (("training", "mfu"), past(1.0), LE),
    # [plan]
    (("plan", "max_variants"), 100, None),
    (("plan", "max_variants"), 101, LE),
    (("plan", "max_variants"), 0, GE),
    (("plan", "split_granularity"), 1, None),
    (("plan", "split_granularity"), 1000, None),
    (("plan", "split_granularity"), 1001, LE),
    (("plan", "time_slices"), 1, None),
    (("plan", "time_slices"), 24, None),  # one an hour
    (("plan", "time_slices"), 25, LE),
    (("plan", "kv_links"), [], "at least 1 item"),
    (("plan", "expert_parallel"), 1024, None),
    (("plan", "expert_parallel"), 1025, LE),
    # [solver]
    (("solver", "threads"), 256, None),
    (("solver", "threads"), 257, LE),
    (("solver", "time_limit_s"), 0.0, GT),
    (("solver", "time_limit_s"), 86_400.0, None),  # a day
    (("solver", "time_limit_s"), past(86_400.0), LE),
    (("solver", "gap_rel"), 0.0, None),
    (("solver", "gap_rel"), 0.5, None),
    (("solver", "gap_rel"), past(0.5), LE),
    (("solver", "node_limit"), 1, None),
    (("solver", "node_limit"), 0, GE),
    (("solver", "node_limit"), 10_000_000, None),
]


@pytest.mark.parametrize(("path", "value", "reason"), BOUNDS,
                         ids=[f"{field_of(p)}={v if not isinstance(v, (str, list)) else len(v)}" for p, v, _ in BOUNDS])
def test_a_value_at_its_bound_is_accepted_and_one_past_it_refused(path: tuple[Any, ...], value: Any,
                                                                  reason: str | None) -> None:
    raw = with_value(path, value)
    if reason is None:
        accepted(raw)
        return
    err = refused(raw)
    assert err.field == field_of(path), str(err)
    assert reason in err.reason, str(err)


def test_the_horizon_bounds_with_periods_that_divide() -> None:
    """months in [1, 240] and period_months in [1, 60]: 240 months in quarters and 60 months in one
    period are accepted; 241 months (in months) and a period of 61 (of 122 months, which 61 divides,
    so only the bound refuses it) are refused naming the field."""
    assert accepted(data(horizon={"months": 240, "period_months": 3})).horizon.months == 240
    assert accepted(data(horizon={"months": 60, "period_months": 60})).horizon.period_months == 60
    assert refused(data(horizon={"months": 241, "period_months": 1})).field == "horizon.months"
    err = refused(data(horizon={"months": 122, "period_months": 61}))
    assert err.field == "horizon.period_months" and LE in err.reason


def test_a_period_longer_than_the_horizon_that_does_not_divide_it_is_refused() -> None:
    """6 months in periods of 4: 6 % 4 = 2, so the horizon is not whole periods."""
    err = refused(data(horizon={"months": 6, "period_months": 4}))
    assert err.field == "horizon" and "period_months (4) must divide months (6)" in err.reason


def test_a_shared_prefix_past_its_bound_is_refused_by_the_bound_not_the_prompt() -> None:
    """shared_prefix_tokens <= 10,000,000 (its Field): with a prompt of 10,000,000 tokens (the
    input_tokens bound), 10,000,001 breaks the field's own bound, named on the field."""
    err = refused(data(workload=[chat(input_tokens=10_000_000, shared_prefix_tokens=10_000_001)]))
    assert err.field == "workload[chat].shared_prefix_tokens" and LE in err.reason


def test_a_p99_target_below_one_ms_is_refused_by_its_bound() -> None:
    """ttft_p99_ms >= 1 ms: with ttft_ms = 1, a p99 of 0.5 ms breaks the field's bound (reported as
    such, not as a tail below the mean)."""
    err = refused(data(workload=[chat(ttft_ms=1, ttft_p99_ms=0.5)]))
    assert err.field == "workload[chat].ttft_p99_ms" and f"{GE} 1" in err.reason


def test_free_key_tables_bound_their_keys_and_lists() -> None:
    """uncertainty and sweep.vary keys (field paths) are 1-256 characters; a technique lists at least
    one option."""
    dist = {"dist": "uniform", "low": 0.5, "high": 1.5}
    assert len(accepted(data(uncertainty={"k" * 256: dist})).uncertainty) == 1
    err = refused(data(uncertainty={"k" * 257: dist}))
    assert err.field == "uncertainty." + "k" * 257 and "at most 256 characters" in err.reason
    assert len(accepted(data(sweep={"vary": {"k" * 256: "1,2"}})).sweep.vary) == 1
    err = refused(data(sweep={"vary": {"k" * 257: "1,2"}}))
    assert err.field == "sweep.vary." + "k" * 257 and "at most 256 characters" in err.reason
    err = refused(data(techniques={"caching": []}))
    assert err.field == "techniques.caching" and "at least 1 item" in err.reason


def test_a_hundred_thousand_measured_rows_are_accepted_and_one_more_refused() -> None:
    """measured holds at most 100,000 rows (the same row repeated: every copy agrees)."""
    one = {"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 3.0, "source": "s"}
    assert len(validate_scenario(data(measured=[one] * 100_000)).measured) == 100_000
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data(measured=[one] * 100_001))
    assert info.value.field == "measured" and "at most 100000 items" in info.value.reason


def test_a_hundred_classes_are_accepted_and_101_refused() -> None:
    """workload holds 1-100 classes."""
    classes = [chat(name=f"c{i}") for i in range(101)]
    assert len(accepted(data(workload=classes[:100])).workload) == 100
    err = refused(data(workload=classes))
    assert err.field == "workload" and "at most 100 items" in err.reason


# --------------------------------------------------------------------------- defaults


def test_documented_defaults() -> None:
    """What a scenario that leaves the tables out gets.  Stated in the README: the annuity terminal
    value, ``max_variants = 1``, ``time_slices`` 4; in the field descriptions: whole replicas
    (``pooled_capacity`` off: "default: whole replicas per deployment"), disaggregation "default off";
    the rest are the defaults the schema declares (``whatif schema`` prints them): on-demand only,
    prices as catalogued (``price_scale = 1``), a 36-month horizon in quarters with no growth, peak or
    discount, the quality bar 1 point of MMLU, training priced on H100 SXM, HiGHS, sweeps as a grid."""
    sc = accepted(data(horizon={}, market={}))
    assert sc.horizon.terminal_value == "annuity"
    assert (sc.horizon.months, sc.horizon.period_months) == (36, 3)
    assert (sc.horizon.growth_per_year, sc.horizon.peak_to_average, sc.horizon.discount_rate_per_year) == (0, 1, 0)
    assert (sc.plan.max_variants, sc.plan.time_slices) == (1, 4)
    assert sc.plan.pooled_capacity is False and sc.plan.disaggregation is False
    assert sc.market.modes == ["on-demand"] and sc.market.price_scale == 1.0
    assert (sc.quality.metric, sc.quality.max_drop) == ("mmlu", 1.0)
    assert sc.training.hardware == "h100-sxm"
    assert sc.solver.name == "highs"
    assert sc.sweep.zip is False and SweepTable().zip is False


def test_spot_is_left_to_the_class_kind_by_default() -> None:
    """allow_spot: "default: deferrable classes yes, interactive classes no" -- unset (None), not a
    no for every class."""
    assert accepted(data()).workload[0].allow_spot is None


def test_a_measured_row_defaults_to_bf16_at_tp1_meeting_its_slo() -> None:
    row = Measured.model_validate({"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 2.0, "source": "s"})
    assert (row.precision, row.tp, row.meets_slo) == ("bf16", 1, True)


# --------------------------------------------------------------------------- the daily profile


def test_a_week_of_168_weights_is_accepted_and_other_lengths_refused() -> None:
    """24 (a day) or 168 (a week); 167 and 48 (two days) are neither."""
    assert len(accepted(data(workload=[chat(profile=[1.0] * 168)])).workload[0].profile) == 168  # type: ignore[arg-type]
    for n in (167, 48):
        err = refused(data(workload=[chat(profile=[1.0] * n)]))
        assert err.field == "workload[chat].profile"
        assert f"needs 24 hourly weights (or 168 for a week), got {n}" in err.reason


def test_a_weight_at_the_largest_is_accepted_and_past_it_refused_naming_the_first_bad_hour() -> None:
    """Weights in [0, 1e6]: 1e6 itself is a weight; 1e6 past at hours 3 and 7 names hour 3 (the
    first); an all-zero day has no load."""
    assert MAX_PROFILE_WEIGHT == 1e6
    assert accepted(data(workload=[chat(profile=[1e6] + [1.0] * 23)])).workload[0].profile[0] == 1e6  # type: ignore[index]
    weights = [1.0] * 24
    weights[3] = weights[7] = 2e6
    err = refused(data(workload=[chat(profile=weights)]))
    assert err.field == "workload[chat].profile"
    assert err.reason == "weight of hour 3 is 2e+06: weights are relative loads in [0, 1e+06]"
    weights = [1.0] * 24
    weights[5] = -0.5
    assert "weight of hour 5 is -0.5" in refused(data(workload=[chat(profile=weights)])).reason
    assert "every weight is 0" in refused(data(workload=[chat(profile=[0.0] * 24)])).reason


def test_a_shape_name_with_a_trailing_newline_is_not_a_name() -> None:
    """The name must be the whole string: "chat\\n" is not the shape "chat"."""
    err = refused(data(workload=[chat(profile="chat\n")]))
    assert err.field == "workload[chat].profile" and "is not a shape name" in err.reason
    assert MAX_NAME_LENGTH == 64


def test_a_profile_of_another_type_is_refused_with_what_it_takes() -> None:
    """A number (a TOML typo for a list) is neither weights nor a shape name."""
    err = refused(data(workload=[chat(profile=24)]))
    assert err.field == "workload[chat].profile"
    assert err.reason == "must be a list of 24 (or 168) hourly weights or a shape name, got 24"


# --------------------------------------------------------------------------- tail targets


def test_a_p99_target_equal_to_its_mean_is_accepted_and_below_it_refused() -> None:
    """p99 >= mean: ttft_p99 1500 = ttft 1500 and tpot_p99 60 = tpot 60 pass; 1125 ms (3/4 of the
    1500 ms mean) is refused naming the mean it is under."""
    w = accepted(data(workload=[chat(ttft_p99_ms=1500, tpot_p99_ms=60)])).workload[0]
    assert (w.ttft_p99_ms, w.tpot_p99_ms) == (1500, 60)
    err = refused(data(workload=[chat(ttft_p99_ms=1125)]))
    assert err.field == "workload[chat].ttft_p99_ms"
    assert err.reason == ("1125 ms is below the mean target ttft_ms (1500 ms): a 99th percentile cannot be "
                          "under the mean")


def test_a_target_of_a_million_ms_is_printed_whole_not_in_exponent_form() -> None:
    """A batch class's 10⁶ ms (about 17 minutes) TTFT read as ``1e+06`` in messages and reports; every
    millisecond target is printed with up to ten significant digits."""
    err = refused(data(workload=[chat(ttft_ms=2_000_000, ttft_p99_ms=1_500_000)]))
    assert err.reason == ("1500000 ms is below the mean target ttft_ms (2000000 ms): a 99th percentile cannot be "
                          "under the mean")


def test_a_tpot_tail_is_compared_with_the_tpot_mean_not_the_ttft() -> None:
    """tpot_p99 100 ms >= tpot 60 ms: accepted, though it is below the 1500 ms TTFT; 45 ms (3/4 of
    60) is refused against tpot_ms."""
    assert accepted(data(workload=[chat(tpot_p99_ms=100)])).workload[0].tpot_p99_ms == 100
    err = refused(data(workload=[chat(tpot_p99_ms=45)]))
    assert err.field == "workload[chat].tpot_p99_ms" and "mean target tpot_ms (60 ms)" in err.reason


def test_a_tail_target_beside_an_invalid_mean_reports_only_the_mean() -> None:
    """ttft_ms = -1 breaks its bound; the p99 check has no mean to compare with and stays quiet:
    one clean error, no crash."""
    err = refused(data(workload=[chat(ttft_ms=-1, ttft_p99_ms=1499)]))
    assert err.problems == (("workload[chat].ttft_ms", "Input should be greater than or equal to 1"),)


# --------------------------------------------------------------------------- market lists and lead times


@pytest.mark.parametrize(("key", "items"), [
    ("hardware", ["h100-sxm", "h100-sxm"]),
    ("modes", ["buy", "buy"]),
    ("providers", ["aws", "lambda", "aws"]),
])
def test_an_item_listed_twice_is_refused(key: str, items: list[str]) -> None:
    err = refused(data(market={key: items}))
    assert err.field == "market" and err.reason == f"duplicate {key}: ['{items[0]}']"


def test_items_listed_twice_are_named_in_sorted_order() -> None:
    """h200 and h100-sxm each twice, h200 first: named sorted, h100-sxm before h200."""
    err = refused(data(market={"hardware": ["h200", "h100-sxm", "h200", "h100-sxm"]}))
    assert err.reason == "duplicate hardware: ['h100-sxm', 'h200']"


def test_a_market_lists_at_most_a_hundred_hardware_slugs() -> None:
    """As many as the providers it may list: 101 distinct well-formed slugs are refused by the count,
    naming market.hardware, before any slug is looked up in the catalog."""
    error = refused(data(market={"hardware": [f"gpu-{i}" for i in range(MAX_MARKET_HARDWARE + 1)]}))
    assert "market.hardware" in str(error) and f"at most {MAX_MARKET_HARDWARE} items" in str(error)
    assert MAX_MARKET_HARDWARE == 100


def test_an_empty_hardware_list_is_refused() -> None:
    err = refused(data(market={"hardware": []}))
    assert err.field == "market" and "hardware list is empty" in err.reason


def test_a_lead_time_as_long_as_the_horizon_is_refused_and_one_month_shorter_accepted() -> None:
    """6-month horizon: an order 5 months ahead serves its last month; 6 months ahead, none."""
    assert accepted(data(market={"lead_time_months": {"buy": 5}})).market.lead_time_months == {"buy": 5}
    err = refused(data(market={"lead_time_months": {"buy": 6}}))
    assert err.field == "market"
    assert "lead_time_months.buy = 6 is not shorter than the horizon (6 months)" in err.reason


def test_lead_times_beside_an_invalid_horizon_report_only_the_horizon() -> None:
    """horizon.months = 0 breaks its bound; the lead times have no horizon to compare with."""
    err = refused(data(horizon={"months": 0, "period_months": 3}, market={"lead_time_months": {"buy": 3}}))
    assert err.problems == (("horizon.months", "Input should be greater than or equal to 1"),)


def test_two_classes_of_the_same_name_are_refused() -> None:
    err = refused(data(workload=[chat(), chat()]))
    assert err.field == "workload" and err.reason == "duplicate workload names: ['chat']"


# --------------------------------------------------------------------------- [[measured]]


def row(**over: Any) -> dict[str, Any]:
    return {"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 3.0, "source": "bench", **over}


def test_a_measured_row_of_an_unknown_class_or_unlisted_hardware_is_refused() -> None:
    err = refused(data(measured=[row(workload="batch")]))
    assert err.field == "measured" and "row 0 (h100-sxm/batch/bf16/TP1): unknown workload class 'batch'" in err.reason
    err = refused(data(measured=[row(hardware="h200")]))
    assert err.field == "measured" and "hardware 'h200' is not in market.hardware" in err.reason


def test_two_rows_of_one_configuration_must_agree() -> None:
    """3 req/s, then 450 output tokens/s = 450 / 150 = 3 req/s: they agree.  3 req/s against a row
    saying it cannot meet the SLO: refused with both figures.  The same hardware and class at TP2 or
    at FP8 is another configuration (no disagreement)."""
    agree = accepted(data(measured=[row(), row(requests_per_s=None, output_tokens_per_s=450.0)]))
    assert [m.capacity_rps(150) for m in agree.measured] == [3.0, 3.0]
    err = refused(data(measured=[row(), row(requests_per_s=None, meets_slo=False)]))
    assert err.field == "measured"
    assert err.reason == ("row 1 (h100-sxm/chat/bf16/TP1) disagrees with an earlier row: 3 requests/s vs "
                          "cannot meet the SLO")
    others = accepted(data(measured=[row(), row(tp=2, requests_per_s=5.0), row(precision="fp8", requests_per_s=6.0)]))
    assert [m.requests_per_s for m in others.measured] == [3.0, 5.0, 6.0]


def test_measured_rows_beside_an_invalid_workload_report_only_the_workload() -> None:
    """workload = [] is refused; the row naming class chat is not reported as an unknown class too."""
    err = refused(data(workload=[], measured=[row()]))
    assert [field for field, _ in err.problems] == ["workload"]


def test_a_capacity_in_output_tokens_is_divided_by_the_class_output() -> None:
    """600 output tokens/s: 600 / 150 = 4 req/s for a 150-token class, 600 / 50 = 12 for a 50-token
    one; a row that cannot meet the SLO serves 0."""
    m = Measured.model_validate(row(requests_per_s=None, output_tokens_per_s=600.0))
    assert (m.capacity_rps(150), m.capacity_rps(50)) == (4.0, 12.0)
    assert Measured.model_validate(row(requests_per_s=None, meets_slo=False)).capacity_rps(150) == 0.0


@pytest.mark.parametrize(("over", "words"), [
    ({"requests_per_s": None}, "give exactly one of requests_per_s or output_tokens_per_s"),
    ({"output_tokens_per_s": 450.0}, "give exactly one of requests_per_s or output_tokens_per_s"),
    ({"meets_slo": False}, "meets_slo = false takes no capacity, got requests_per_s"),
    ({"requests_per_s": 0.0}, "greater than 0"),
    ({"source": ""}, "at least 1 character"),
])
def test_a_measured_row_gives_exactly_one_positive_capacity_and_a_source(over: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Measured.model_validate(row(**over))


def test_measured_capacity_bounds() -> None:
    """requests_per_s in (0, 1e7], output_tokens_per_s in (0, 1e10], tp in [1, 1024]."""
    for over in ({"requests_per_s": 1e7}, {"requests_per_s": None, "output_tokens_per_s": 1e10}, {"tp": 1024}):
        Measured.model_validate(row(**over))
    for over in ({"requests_per_s": past(1e7)}, {"requests_per_s": None, "output_tokens_per_s": past(1e10)},
                 {"tp": 1025}):
        with pytest.raises(ValidationError, match=LE):
            Measured.model_validate(row(**over))


# --------------------------------------------------------------------------- [buckets]


def buckets(**over: Any) -> dict[str, Any]:
    """Input ranges 1-25 and 26-100, output ranges 1-50 and 51-200; 2 requests/s in all."""
    return {"input_edges": [1, 25, 100], "output_edges": [1, 50, 200], "shares": [[0.5, 0.0], [0.25, 0.25]],
            "total_rate_rps": 2.0, "ttft_ms": 1000, "tpot_ms": 100, **over}


def test_bucket_classes_tokens_volumes_and_targets() -> None:
    """Positive shares only (the 0.0 of in1-25 x out51-200 makes no class); tokens at the upper edge
    of each range, the second range starting one past the first's edge (26, 51); volume share x
    2 req/s x 86,400 s/day: 0.5 -> 86,400, 0.25 -> 43,200; the table's TTFT 1000 and TPOT 100 ms."""
    classes = Buckets.model_validate(buckets()).classes()
    assert [(c["name"], c["input_tokens"], c["output_tokens"], c["queries_per_day"]) for c in classes] == [
        ("in1-25-out1-50", 25, 50, 86_400.0), ("in26-100-out1-50", 100, 50, 43_200.0),
        ("in26-100-out51-200", 100, 200, 43_200.0)]
    assert {(c["ttft_ms"], c["tpot_ms"]) for c in classes} == {(1000, 100)}


def test_a_bucket_table_is_a_scenario_s_classes_and_stays_its_source_when_read_back() -> None:
    """A scenario of buckets alone plans the three classes above; dumped (it then holds both the
    table and the classes) and read back with total_rate_rps 3, the classes follow the table:
    0.5 x 3 x 86,400 = 129,600 a day, not the dumped 86,400."""
    raw = data(buckets=buckets())
    del raw["workload"]
    sc = accepted(raw)
    assert [w.name for w in sc.workload] == ["in1-25-out1-50", "in26-100-out1-50", "in26-100-out51-200"]
    dumped = sc.model_dump(mode="json")
    dumped["buckets"]["total_rate_rps"] = 3.0
    again = accepted(dumped)
    assert [w.queries_per_day for w in again.workload] == [129_600.0, 64_800.0, 64_800.0]
    dumped["workload"][0]["name"] = "renamed"
    assert "not both" in refused(dumped).reason


def test_buckets_beside_a_workload_that_is_not_tables_are_refused() -> None:
    """``workload = ["chat"]`` (strings, not tables) beside [buckets]: refused as two sources of
    classes, not a crash on the string."""
    raw = data(buckets=buckets(), workload=["chat"])
    assert "give [[workload]] classes or a [buckets] table, not both" in refused(raw).reason


def test_a_bad_bucket_table_reports_only_its_own_error() -> None:
    """Shares of 2 rows x 1 column for a 2 x 2 table: one line naming buckets, and no "workload:
    required field missing" beside it (the table stands for the classes)."""
    raw = data(buckets=buckets(shares=[[0.5], [0.5]]))
    del raw["workload"]
    err = refused(raw)
    assert len(err.problems) == 1
    assert err.field == "buckets" and err.reason == "shares must be 2 rows of 2 values (input ranges x output ranges)"


@pytest.mark.parametrize(("over", "field", "words"), [
    ({"input_edges": [1, 25, 25]}, "buckets", "input_edges must increase strictly"),
    ({"output_edges": [1, 50, 50]}, "buckets", "output_edges must increase strictly"),
    ({"shares": [[0.0, 0.0], [0.0, 0.0]]}, "buckets", "no bucket has a positive share"),
    ({"shares": [[0.5, 0.0], [0.25]]}, "buckets", "shares must be 2 rows of 2 values"),
    ({"shares": [[0.5, 0.5]]}, "buckets", "shares must be 2 rows of 2 values"),
    ({"input_edges": [1]}, "buckets.input_edges", "at least 2 items"),
    ({"input_edges": [0, 25, 100]}, "buckets.input_edges[0]", GE),
    ({"output_edges": list(range(1, 67))}, "buckets.output_edges", "at most 65 items"),
    ({"output_edges": [1, 50, 1_000_001]}, "buckets.output_edges[2]", LE),
    ({"shares": [[0.5, 0.0], [0.25, past(1e6)]]}, "buckets.shares[1][1]", LE),
    ({"total_rate_rps": past(1e8)}, "buckets.total_rate_rps", LE),
    ({"ttft_ms": past(1.0, DOWN)}, "buckets.ttft_ms", GE),
    ({"tpot_ms": past(60_000.0)}, "buckets.tpot_ms", LE),
])
def test_a_bad_bucket_table_is_refused_naming_it(over: dict[str, Any], field: str, words: str) -> None:
    raw = data(buckets=buckets(**over))
    del raw["workload"]
    err = refused(raw)
    assert err.field == field and words in err.reason, str(err)


def test_bucket_bounds_are_accepted_at_the_bound() -> None:
    """65 output edges (64 ranges; 100 of the 128 buckets positive, the most classes a scenario
    holds), an edge of 1,000,000 output tokens, shares of 1e6, 1e8 req/s, TTFT 1 ms and TPOT
    60,000 ms are all in bounds; the largest class 1e6 x 100 req/s x 86,400 s = 8.64e12 queries a
    day and 1.0 x 1e8 x 86,400 = 8.64e12, under 1e13."""
    Buckets.model_validate(buckets(output_edges=list(range(1, 66)), shares=[[1.0] * 64, [1.0] * 36 + [0.0] * 28]))
    Buckets.model_validate(buckets(output_edges=[1, 50, 1_000_000], shares=[[1e6, 0.0], [0.0, 1.0]],
                                   total_rate_rps=100.0, ttft_ms=1.0, tpot_ms=60_000.0))
    Buckets.model_validate(buckets(shares=[[1.0, 0.0], [0.0, 1.0]], total_rate_rps=1e8))


def test_a_bucket_table_past_the_classes_bounds_is_refused_naming_buckets() -> None:
    """Bounds of the classes a table makes, reported as [buckets] (they read ``workload.0.queries_per_day``
    and ``workload: List should have at most 100 items``, in a file with no workload): 2.0 x 1e8 req/s
    x 86,400 s = 1.728e13 queries a day > 1e13; 11 x 11 positive shares = 121 classes > 100."""
    raw = data(buckets=buckets(shares=[[2.0, 0.0], [0.0, 1.0]], total_rate_rps=1e8))
    del raw["workload"]
    err = refused(raw)
    assert (err.field, err.reason) == ("buckets", "the largest share x total_rate_rps is 1.728e+13 queries a day; "
                                                  "a class holds at most 1e+13")
    edges = list(range(1, 13))
    raw = data(buckets=buckets(input_edges=edges, output_edges=edges, shares=[[1.0] * 11] * 11))
    del raw["workload"]
    err = refused(raw)
    assert (err.field, err.reason) == ("buckets", "shares: 121 buckets have a positive share, each a class; "
                                                  "a scenario holds at most 100")
    rows = [[1.0] * 11] * 9 + [[1.0] + [0.0] * 10, [0.0] * 11]  # 9 x 11 + 1 = 100 classes: accepted
    raw = data(buckets=buckets(input_edges=edges, output_edges=edges, shares=rows))
    del raw["workload"]
    assert len(accepted(raw).workload) == 100


@pytest.mark.parametrize(("profile", "hour", "shown"), [(["1"] * 24, 0, "'1'"), ([1.0, True] + [1.0] * 22, 1, "True"),
                                                         ([1.0] * 5 + [None] + [1.0] * 18, 5, "None")])
def test_a_profile_item_that_is_no_number_is_named_once(profile: list[Any], hour: int, shown: str) -> None:
    """One reason at the profile's own path, naming the first bad hour (pydantic named each item under
    ``profile.list[float].<i>`` and then ``profile.str: Input should be a valid string``)."""
    err = refused(data(workload=[chat(profile=profile)]))
    assert len(err.problems) <= 1
    assert err.field == "workload[chat].profile"
    assert err.reason == ("must be a list of 24 (or 168) hourly weights or a shape name; "
                          f"the weight of hour {hour} is {shown}, not a finite number")


# --------------------------------------------------------------------------- [uncertainty]


@pytest.mark.parametrize(("params", "words"), [
    ({"dist": "normal", "mean": 1.0, "sd": 0.1}, "normal needs low, high"),
    ({"dist": "lognormal", "median": 1.0, "sigma": 0.5, "low": 0.5}, "lognormal takes median, sigma, not low"),
    ({"dist": "uniform", "low": 1.5, "high": 0.5}, "low (1.5) must be below high (0.5)"),
    ({"dist": "lognormal", "median": 0.0, "sigma": 0.5}, "greater than 0"),
    ({"dist": "lognormal", "median": 1.0, "sigma": past(10.0)}, LE),
    ({"dist": "normal", "mean": 1.0, "sd": 0.0, "low": 0.5, "high": 1.5}, "greater than 0"),
])
def test_a_bad_distribution_is_refused_naming_its_path(params: dict[str, Any], words: str) -> None:
    err = refused(data(uncertainty={"market.price_scale": params}))
    assert err.field.startswith("uncertainty.market.price_scale") and words in err.reason, str(err)


def test_a_distribution_at_its_bounds_is_accepted() -> None:
    """sigma 10 (the largest); a normal whose mean sits at high; a triangle whose mode sits at low."""
    for params in ({"dist": "lognormal", "median": 1.0, "sigma": 10.0},
                   {"dist": "normal", "mean": 1.5, "sd": 0.1, "low": 0.5, "high": 1.5},
                   {"dist": "triangular", "low": 0.5, "mode": 0.5, "high": 1.5}):
        accepted(data(uncertainty={"market.price_scale": params}))


def test_a_parameter_a_distribution_does_not_take_is_refused_by_param() -> None:
    u = Distribution(dist="uniform", low=0.5, high=1.5)
    assert (u.param("low"), u.param("high")) == (0.5, 1.5)
    with pytest.raises(ValueError, match="uniform has no median"):
        u.param("median")


# --------------------------------------------------------------------------- names, slugs and measured_file


def test_names_slugs_options_and_technique_names() -> None:
    """Names: lower-case letters, digits, '-' and '_' (no '.'), at most 64; slugs may hold '.';
    options join slugs with '+'; a technique name starts with a letter; a provider id is at most 64."""
    assert accepted(data(name="n" * 64)).name == "n" * 64
    assert refused(data(name="n" * 65)).field == "name"
    assert refused(data(name="v1.2")).field == "name"
    assert accepted(data(market={"hardware": ["h100.sxm"]})).market.hardware == ["h100.sxm"]
    assert accepted(data(techniques={"caching": ["prefix+response"]})).techniques == {"caching": ["prefix+response"]}
    assert refused(data(techniques={"1caching": ["prefix"]})).field == "techniques.1caching"
    assert accepted(data(market={"providers": ["p" * 64]})).market.providers == ["p" * 64]
    assert refused(data(market={"providers": ["p" * 65]})).field == "market.providers[0]"


def test_schema_version_as_a_string_is_refused_as_not_the_integer() -> None:
    err = refused(data(schema_version="1"))
    assert err.field == "schema_version" and err.reason == "must be the integer 1, got '1'"


def test_measured_file_is_read_by_the_loader_not_by_the_model() -> None:
    with pytest.raises(ValidationError, match="is read when a scenario is loaded"):
        Scenario.model_validate(data(measured_file="m.csv"))


# --------------------------------------------------------------------------- whatif schema


def test_the_json_schema_states_the_single_field_rules() -> None:
    """The schema of ``whatif schema`` refuses what the loader refuses field by field: a free-key table
    with a key off its pattern, a weight past 1e6, a profile neither 24 nor 168 long (168 itself
    accepted), no positive weight, a shape name past 64 characters, a provider listed twice, an empty
    hardware list; and needs workload or buckets, either one."""
    schema = scenario_json_schema()
    validator = jsonschema.Draft202012Validator(schema)

    def doc(**over: Any) -> dict[str, Any]:
        return data(**over)

    assert validator.is_valid(doc())
    assert validator.is_valid(doc(workload=[chat(profile=[1.0] * 168)]))
    assert validator.is_valid(doc(workload=[chat(profile=[1e6] + [0.0] * 23)]))
    assert validator.is_valid(doc(workload=[chat(profile="s" * 64)]))
    buckets_only = doc(buckets=buckets())
    del buckets_only["workload"]
    assert validator.is_valid(buckets_only)
    refused_docs = {
        "quota key": doc(market={"hardware": ["h100-sxm"], "quota_gpus": {"H100": 8}}),
        "weight": doc(workload=[chat(profile=[past(1e6)] + [1.0] * 23)]),
        "100 weights": doc(workload=[chat(profile=[1.0] * 100)]),
        "no positive weight": doc(workload=[chat(profile=[0.0] * 24)]),
        "long name": doc(workload=[chat(profile="s" * 65)]),
        "providers twice": doc(market={"providers": ["aws", "aws"]}),
        "empty hardware": doc(market={"hardware": []}),
        "neither": {k: v for k, v in doc().items() if k != "workload"},
    }
    for label, bad in refused_docs.items():
        assert not validator.is_valid(bad), label


def test_pooled_capacity_and_a_replica_floor_are_refused_together() -> None:
    """``min_replicas`` counts whole replicas, ``pooled_capacity`` makes them fractional: together they are
    refused at ``plan`` naming the class (the pooled model read the floor as one on load: one class at half a
    replica's load with ``min_replicas = 2`` came out infeasible where two whole replicas serve it); either
    alone is accepted."""
    error = refused(data(workload=[chat(min_replicas=2)], plan={"pooled_capacity": True}))
    assert error.field == "plan" and "workload 'chat' asks for min_replicas" in error.reason
    accepted(data(workload=[chat(min_replicas=2)]))
    accepted(data(plan={"pooled_capacity": True}))
