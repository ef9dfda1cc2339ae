"""Mutation checks of explain's views: the estimator preview (on a hand-built candidate set, so every
figure is a hand calculation), the service-level lines, the sensitivity labels, the re-solve settings and
the executors.  Each test pins behaviour a small change of the module survived before; nothing here
solves a model."""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import os
import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import planner
from planner.errors import InputError
from planner.insight import pools, resolve, sensitivity
from planner.insight.preview import preview
from planner.insight.service_levels import service_level_cases
from tests.insight.test_explain import scenario

TECHNIQUES = ("quantization", "kv_quantization", "distillation", "caching", "moe")


# --- preview on a hand-built candidate set -------------------------------------------------------------

class Table:
    """A deployment table of the given rows: (class, hardware, variant, TP, R req/s, TTFT s, TPOT s, batch,
    bound index, fits, latency ok)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        cols = list(zip(*rows, strict=True))
        self.workload, self.hardware, self.variant, self.tp = (np.array(c, int) for c in cols[:4])
        self.latency_ok = np.array(cols[10], bool)
        self.measured = None
        self.result = SimpleNamespace(
            requests_per_s=np.array(cols[4], float), ttft_s=np.array(cols[5], float),
            tpot_s=np.array(cols[6], float), batch=np.array(cols[7], int), bound=np.array(cols[8], int),
            fits=np.array(cols[9], bool))

    def __len__(self) -> int:
        return len(self.workload)


def variant(name: str, quality: float, classes: tuple[str, ...] = ("chat",), precision: str = "fp8") -> Any:
    profile = SimpleNamespace(quality_score=quality, served_query_fraction=1.0, precision=precision,
                              compute_dtype=precision)
    return SimpleNamespace(name=name, profiles=dict.fromkeys(classes, profile))


def candidates(rows: list[tuple[Any, ...]], variants: list[Any], slugs: tuple[str, ...],
               classes: tuple[str, ...] = ("chat",), base_score: float = 70.0) -> Any:
    real = planner.load_catalogs()
    return SimpleNamespace(deployments=Table(rows), variants=variants, workloads=list(classes),
                           hardware=[real.hardware[s] for s in slugs], base_score=base_score,
                           base_model=SimpleNamespace(slug="llama-3.1-8b"))


def prices(hourly: dict[tuple[str, str], float], overlays: tuple[str, ...] = ()) -> Any:
    """A catalog of the given USD per GPU-hour only (no load shapes)."""
    def price(slug: str, mode: str) -> Any:
        usd = hourly.get((slug, mode))
        return None if usd is None else SimpleNamespace(usd_per_gpu_hour=usd)

    return SimpleNamespace(price=price, load_shapes={}, overlays=overlays)


def view_scenario(classes: tuple[str, ...] = ("chat",), measured: list[dict[str, Any]] | None = None,
                  max_drop: float = 1.0) -> planner.Scenario:
    """Each class at 864,000 queries/day = 10/s on average, peak-to-average 2: a peak of 20/s; 100 output
    tokens; targets TTFT 1000 ms and TPOT 50 ms; a quality floor of 70 − 1 = 69 points."""
    return planner.scenario_from_dict({
        "schema_version": 1, "name": "views", "model": {"base": "llama-3.1-8b"},
        "workload": [{"name": n, "queries_per_day": 864_000, "input_tokens": 500, "output_tokens": 100,
                      "ttft_ms": 1000, "tpot_ms": 50} for n in classes],
        "horizon": {"months": 1, "period_months": 1, "peak_to_average": 2.0},
        "market": {"hardware": ["l4", "a100-80gb", "h100-sxm"], "modes": ["on-demand"]},
        "quality": {"max_drop": max_drop},
        "techniques": {t: ["none"] for t in TECHNIQUES},
        "measured": measured or []})


def test_preview_rows_by_hand_sorted_by_cost_then_gpus() -> None:
    """One FP8 variant (69.5 points, above the 69 floor) on three hardware types at a peak of 20/s:

    * L4, TP 1, R 1/s: ⌈20/1⌉ = 20 replicas = 20 GPUs × 0.5 $/h = 10 $/h;
    * A100, TP 2, R 4/s: ⌈20/4⌉ = 5 replicas = 10 GPUs × 1 $/h = 10 $/h (a tie with the L4: fewer GPUs first);
    * H100, TP 1, R 5/s: ⌈20/5⌉ = 4 replicas = 4 GPUs × 3 $/h = 12 $/h (fewest GPUs, but dearer: after both).

    USD per million output tokens = USD/h ÷ (20/s × 100 tokens × 3600 s) × 10⁶ = USD/h ÷ 7.2.  The row
    carries the chosen deployment's batch and bound, the variant's precision, and the compute dtype the
    hardware really uses (the A100 has no FP8 tensor cores: "fp8->bf16")."""
    rows = [(0, 0, 0, 1, 1.0, 0.4, 0.045, 8, 1, True, True),
            (0, 1, 0, 2, 4.0, 0.3, 0.040, 16, 1, True, True),
            (0, 2, 0, 1, 5.0, 0.2, 0.030, 32, 0, True, True)]
    cs = candidates(rows, [variant("quantization:fp8", 69.5)], ("l4", "a100-80gb", "h100-sxm"))
    cat = prices({("l4", "on-demand"): 0.5, ("a100-80gb", "on-demand"): 1.0, ("h100-sxm", "on-demand"): 3.0})
    view = preview(view_scenario(), cat, cs)  # type: ignore[arg-type]
    assert [(r.hardware, r.replicas, r.gpus, r.usd_per_hour) for r in view.rows] == [
        ("a100-80gb", 5, 10, 10.0), ("l4", 20, 20, 10.0), ("h100-sxm", 4, 4, 12.0)]
    a100 = view.rows[0]
    assert a100.usd_per_million_output_tokens == pytest.approx(10.0 / 7.2)
    assert (a100.batch, a100.bound, a100.precision, a100.compute_dtype_used) == (16, "memory", "fp8", "fp8->bf16")
    assert (a100.ttft_ms, a100.tpot_ms, a100.requests_per_s_per_replica) == pytest.approx((300.0, 40.0, 4.0))
    h100 = view.rows[2]
    assert (h100.batch, h100.bound, h100.compute_dtype_used) == (32, "compute", "fp8")
    assert view.deployments_evaluated == 3 and view.infeasible == []


def test_preview_prices_each_class_from_its_own_deployments() -> None:
    """Two classes on the A100 (1 $/h, TP 1): chat's deployment serves 4/s (⌈20/4⌉ = 5 replicas, 5 $/h),
    api's 10/s (⌈20/10⌉ = 2, 2 $/h).  chat must not borrow api's faster row."""
    rows = [(0, 0, 0, 1, 4.0, 0.3, 0.04, 16, 1, True, True),
            (1, 0, 0, 1, 10.0, 0.3, 0.04, 16, 1, True, True)]
    cs = candidates(rows, [variant("baseline", 70.0, ("chat", "api"))], ("a100-80gb",), ("chat", "api"))
    view = preview(view_scenario(("chat", "api")), prices({("a100-80gb", "on-demand"): 1.0}), cs)  # type: ignore[arg-type]
    assert [(r.workload, r.replicas, r.usd_per_hour) for r in view.rows] == [("api", 2, 2.0), ("chat", 5, 5.0)]


def test_a_variant_a_hair_below_the_floor_is_left_out() -> None:
    """Floor 70 − 1 = 69: a variant at 68.9995 (0.0005 below) is out although it is cheaper (R 10/s:
    2 replicas); the one at exactly 69.0 is in (R 4/s: 5 replicas).  The comparison only forgives
    rounding (1e-9), not a real shortfall."""
    rows = [(0, 0, 0, 1, 10.0, 0.3, 0.04, 16, 1, True, True),
            (0, 0, 1, 1, 4.0, 0.3, 0.04, 16, 1, True, True)]
    cs = candidates(rows, [variant("quantization:int4", 68.9995), variant("quantization:fp8", 69.0)], ("a100-80gb",))
    [row] = preview(view_scenario(), prices({("a100-80gb", "on-demand"): 1.0}), cs).rows  # type: ignore[arg-type]
    assert (row.variant, row.replicas, row.quality_score) == ("quantization:fp8", 5, 69.0)


def test_the_measured_reason_is_only_for_a_measured_pair_without_capacity() -> None:
    """Measured rows for (h100, chat) and (a100, api).  On the A100:

    * chat (no measurement of its own there; the api one and chat's H100 one do not count) misses the
      latency targets: the roofline's reason, quoting its best 1500.0 ms / 60.0 ms;
    * api is a measured pair whose capacity meets the targets but only with a variant under the
      quality floor (60 < 69): the quality reason, not "measured"."""
    measured = [{"hardware": "h100-sxm", "workload": "chat", "requests_per_s": 5, "source": "bench"},
                {"hardware": "a100-80gb", "workload": "api", "requests_per_s": 5, "source": "bench"}]
    rows = [(0, 0, 0, 1, 4.0, 1.5, 0.06, 16, 1, True, False),   # chat on A100: too slow
            (1, 0, 1, 1, 4.0, 0.3, 0.04, 16, 1, True, True),    # api on A100: fast, low quality only
            (0, 1, 0, 1, 5.0, 0.2, 0.03, 32, 0, True, True),
            (1, 1, 0, 1, 5.0, 0.2, 0.03, 32, 0, True, True)]
    variants = [variant("baseline", 70.0, ("chat", "api")), variant("quantization:int4", 60.0, ("chat", "api"))]
    cs = candidates(rows, variants, ("a100-80gb", "h100-sxm"), ("chat", "api"))
    cat = prices({("a100-80gb", "on-demand"): 1.0, ("h100-sxm", "on-demand"): 3.0})
    view = preview(view_scenario(("chat", "api"), measured), cat, cs)  # type: ignore[arg-type]
    reasons = {(m.workload, m.hardware): m.reason for m in view.infeasible}
    assert reasons == {
        ("chat", "a100-80gb"): "misses the latency targets: best TTFT 1500.0 ms (target 1000), "
                               "best TPOT 60.0 ms (target 50)",
        ("api", "a100-80gb"): "no variant keeps quality >= 69.00"}
    assert sorted((r.workload, r.hardware) for r in view.rows) == [("api", "h100-sxm"), ("chat", "h100-sxm")]


def test_a_measured_pair_without_capacity_at_its_targets_says_so() -> None:
    """(A100, chat) is measured and no row of the pair meets the targets: the reason names the
    measurement, in full, not the roofline's latencies."""
    measured = [{"hardware": "a100-80gb", "workload": "chat", "meets_slo": False, "source": "bench"}]
    cs = candidates([(0, 0, 0, 1, 4.0, 1.5, 0.06, 0, 1, True, False)], [variant("baseline", 70.0)], ("a100-80gb",))
    view = preview(view_scenario(measured=measured), prices({("a100-80gb", "on-demand"): 1.0}), cs)  # type: ignore[arg-type]
    assert [m.reason for m in view.infeasible] == [
        "measured: no [[measured]] row of this hardware and class gives capacity at its targets "
        "(meets_slo = false, no requests/s, or a TP that does not fit)"]


def test_only_an_on_demand_price_prices_a_preview_row() -> None:
    """The preview is on-demand only: hardware with a spot price and no on-demand price has no row."""
    rows = [(0, 0, 0, 1, 4.0, 0.3, 0.04, 16, 1, True, True), (0, 1, 0, 1, 5.0, 0.2, 0.03, 32, 0, True, True)]
    cs = candidates(rows, [variant("baseline", 70.0)], ("a100-80gb", "h100-sxm"))
    cat = prices({("a100-80gb", "spot"): 0.5, ("h100-sxm", "on-demand"): 3.0})
    view = preview(view_scenario(), cat, cs)  # type: ignore[arg-type]
    assert [r.hardware for r in view.rows] == ["h100-sxm"]
    assert [(m.hardware, m.reason) for m in view.infeasible] == [("a100-80gb", "no on-demand price in the catalog")]


def test_the_preview_names_its_overlays_and_what_it_leaves_out() -> None:
    cs = candidates([(0, 0, 0, 1, 4.0, 0.3, 0.04, 16, 1, True, True)], [variant("baseline", 70.0)], ("a100-80gb",))
    view = preview(view_scenario(), prices({("a100-80gb", "on-demand"): 1.0}, ("team.toml",)), cs)  # type: ignore[arg-type]
    assert view.catalog_overlays == ["team.toml"]
    assert view.note == ("estimator view: first-period peak demand (at the period's end; a deferrable class at the "
                         "constant rate that meets its deadline), on-demand prices, no one-time costs")
    assert (view.scenario, view.model, view.variants) == ("views", "llama-3.1-8b", 1)


# --- service levels --------------------------------------------------------------------------------------

def test_a_floor_of_one_replica_is_a_service_level_too(catalog) -> None:  # type: ignore[no-untyped-def]
    """Any ``min_replicas`` the class sets (1 included) is a choice with its line; 0 is none."""
    [(label, changed)] = service_level_cases(scenario(workload={"min_replicas": 1}), catalog)
    assert label == "chat: at least 1 replica (vs no floor)" and changed.workload[0].min_replicas == 0
    assert service_level_cases(scenario(workload={"min_replicas": 0}), catalog) == []


def test_two_time_slices_already_follow_the_load(catalog) -> None:  # type: ignore[no-untyped-def]
    """``time_slices > 1``: two slices follow the daily load (one is the peak all day)."""
    sc = scenario(workload={"profile": "chat-regional"}, plan={"time_slices": 2})
    [(label, changed)] = service_level_cases(sc, catalog)
    assert label == "following the daily load in up to 2 slices (vs the peak provisioned all day)"
    assert changed.plan.time_slices == 1


# --- sensitivity -----------------------------------------------------------------------------------------

def test_the_default_delta_is_twenty_percent() -> None:
    """The module docstring: each key input at 1 ± δ, default 20 %."""
    assert sensitivity.DEFAULT_SENSITIVITY == 0.20


def test_a_sensitivity_jobs_label_prints_its_factor_in_short() -> None:
    """The held-out band's factors 1/1.171 = 0.853970965… and 1/0.785 = 1.273885350… are labelled with
    six significant digits (``:g``): x0.853971 and x1.27389."""
    sc = scenario()
    jobs: list[str] = []

    class Recording:
        def submit(self, _sc: Any, _cat: Any, label: str, _hint: Any = None) -> int:
            jobs.append(label)
            return len(jobs) - 1

    cases = [("efficiency", (1 / 1.171, 1 / 0.785), lambda f: (sc, None))]
    assert sensitivity.submit_sensitivity(Recording(), cases) == [(0, 1)]  # type: ignore[arg-type]
    assert jobs == ["sensitivity: efficiency x0.853971", "sensitivity: efficiency x1.27389"]


# --- resolve -----------------------------------------------------------------------------------------------

def test_spot_capacity_alone_makes_two_variant_plans_pair_models(catalog) -> None:  # type: ignore[no-untyped-def]
    """Spot capacity needs the time-sliced model (``needs_slices``: spot, a profile or a deadline), so a
    plan of up to two variants in a spot market is screened pair by pair: the pair limits apply."""
    sc = scenario(market={"modes": ["on-demand", "spot"]}, plan={"max_variants": 2})
    assert resolve.has_pair_models(sc)
    assert resolve.aux_node_limit(sc) == resolve.AUX_PAIR_NODE_LIMIT
    assert resolve.aux_scenario(sc).solver.time_limit_s == resolve.AUX_PAIR_TIME_LIMIT_S
    assert not resolve.has_pair_models(scenario(plan={"max_variants": 2}))


@pytest.mark.parametrize(("cores", "workers"), [(8, 4), (4, 4), (3, 3), (1, 1), (None, 1)])
def test_the_default_worker_count_is_the_cores_at_most_four(monkeypatch, cores, workers) -> None:  # type: ignore[no-untyped-def]
    """``DEFAULT_WORKERS = max(1, min(4, cores))``, an unknown core count read as 1; read from a fresh
    copy of the module (the loaded one keeps its own)."""
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    spec = importlib.util.spec_from_file_location("resolve_copy", resolve.__file__)
    copy = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(copy)  # type: ignore[union-attr]
    assert copy.DEFAULT_WORKERS == workers


# --- pools -------------------------------------------------------------------------------------------------

class Recorder(cf.Executor):
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.submitted: list[Any] = []

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.calls.append({"wait": wait, "cancel_futures": cancel_futures})

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        self.submitted.append((fn, args))
        return cf.Future()


@pytest.mark.parametrize("spec", [None, "local"])
def test_a_local_executor_waits_for_its_workers_on_the_way_out(monkeypatch, spec) -> None:  # type: ignore[no-untyped-def]
    made: list[tuple[int, Recorder]] = []

    def local_pool(workers: int) -> Recorder:
        made.append((workers, Recorder()))
        return made[-1][1]

    monkeypatch.setattr(pools, "local_pool", local_pool)
    with pools.make_executor(spec, 3) as pool:
        assert pool is made[0][1] and pool.calls == []
    assert [(w, p.calls) for w, p in made] == [(3, [{"wait": True, "cancel_futures": True}])]


def test_a_named_dask_scheduler_is_reached_over_tcp_and_closed_within_the_timeout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``dask://HOST:PORT`` → ``tcp://HOST:PORT``; the client's executor (pure=False) is yielded and the
    client closed with the connect timeout, a close that fails swallowed."""
    events: list[Any] = []

    class Client:
        def get_executor(self, pure: bool) -> str:
            events.append(("executor", pure))
            return "executor"

        def close(self, timeout: float) -> None:
            events.append(("close", timeout))
            raise OSError("scheduler gone")

    def connect(client_type: Any, address: str) -> Client:
        events.append(("connect", address))
        return Client()

    monkeypatch.setattr(pools, "_require_dask", lambda: None)
    monkeypatch.setattr(pools, "_connect", connect)
    with pools.make_executor("dask://10.0.0.5:8786", 2) as executor:
        assert executor == "executor"
    assert events == [("connect", "tcp://10.0.0.5:8786"), ("executor", False),
                      ("close", pools.DASK_CONNECT_TIMEOUT_S)]


def test_work_goes_to_the_newest_replacement_pool(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After two restarts the third pool, not the second, takes the work."""
    made: list[Recorder] = []

    def local_pool(workers: int) -> Recorder:
        made.append(Recorder())
        return made[-1]

    monkeypatch.setattr(pools, "local_pool", local_pool)
    first = Recorder()
    pool = pools.RestartablePool(first, None, 2)
    first._broken = True  # type: ignore[attr-defined]
    pool.restart()
    made[0]._broken = True  # type: ignore[attr-defined]
    pool.restart()
    pool.submit(pow, 2, 5)
    assert [p.submitted for p in (first, *made)] == [[], [], [(pow, (2, 5))]]


def test_without_dask_a_dask_executor_is_refused_by_name(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Dask missing (its import fails): an input error on ``--executor`` with the install hint, not an
    ImportError, both when checking and when making the executor."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # ``import distributed`` raises ImportError
    with pytest.raises(InputError) as refused:
        pools.check_executor("dask")
    assert refused.value.field == "--executor"
    assert refused.value.reason == "Dask is not installed: pip install 'whatif-planner[dask]'"
    with pytest.raises(InputError, match="Dask is not installed"), pools.make_executor("dask://h:1", 1):
        pass


@pytest.mark.parametrize(("rate", "factor", "moved"), [
    (0.3, 1.2, 0.36),     # 0.3 × 1.2
    (0.9, 1.2, 0.99),     # 1.08 capped at 0.99
    (0.995, 1.2, 0.9975),  # above the cap already: halfway to 1, never below the rate (0.99 before)
    (0.995, 0.8, 0.796),  # the low end scales as given
])
def test_the_repeat_rate_high_end_never_moves_the_rate_down(rate: float, factor: float, moved: float) -> None:
    from planner.insight.sensitivity import moved_repeat_rate

    assert moved_repeat_rate(rate, factor) == pytest.approx(moved, rel=1e-12)
