"""Property-based input checks: any invalid value of a numeric field is refused naming that field;
the loader never fails with anything but a PlannerError on mutated files."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.errors import PlannerError, ScenarioError

DEMO = json.loads(planner.load_scenario(planner.demo_scenario_path()).model_dump_json())
# (path into the dict, the field path the error must name, lowest valid value, highest valid value)
FIELDS = [
    (("workload", 0, "queries_per_day"), "workload[chat].queries_per_day", 1e-300, 1e13),
    (("workload", 0, "ttft_ms"), "workload[chat].ttft_ms", 1, 3.6e6),
    (("workload", 0, "tpot_ms"), "workload[chat].tpot_ms", 0.1, 6e4),
    (("workload", 1, "output_tokens"), "workload[summarise].output_tokens", 1, 1e6),
    (("horizon", "peak_to_average"), "horizon.peak_to_average", 1, 100),
    (("horizon", "discount_rate_per_year"), "horizon.discount_rate_per_year", 0, 1),
    (("quality", "max_drop"), "quality.max_drop", 0, 100),
    (("market", "price_scale"), "market.price_scale", 1e-300, 1000),
    (("market", "gpus_per_unit", "buy"), "market.gpus_per_unit.buy", 1, 1024),
]


def _set(data: dict, path: tuple, value: object) -> dict:  # type: ignore[type-arg]
    out = json.loads(json.dumps(data))
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v)),
    st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=1e14, max_value=1e300),
    st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_an_invalid_value_is_refused_naming_its_field(field, value) -> None:  # type: ignore[no-untyped-def]
    path, name, low, high = field
    if isinstance(value, float) and math.isfinite(value) and low <= value <= high:
        return
    text = json.dumps(_set(DEMO, path, value), allow_nan=True)
    try:
        planner.scenario_from_dict(json.loads(text))
    except ScenarioError as err:
        assert name in str(err)
    else:
        raise AssertionError(f"{name} = {value!r} was accepted")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_raw_bytes_never_crash_the_loader(tmp_path_factory, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    path.write_bytes(raw)
    try:
        planner.load_scenario(path)
    except PlannerError:
        pass
