"""A scenario at the edge of what users try: how long, how much memory, or refused up-front.

    python benchmarks/large_inputs.py MONTHS PERIOD_MONTHS N_HARDWARE
    python benchmarks/large_inputs.py 36 3 4     # 672 variants x 10 classes x 4 GPUs x 4 modes x 12 periods
    python benchmarks/large_inputs.py 36 3 12    # 12 GPU types: refused (deployment rows)
    python benchmarks/large_inputs.py 60 1 4     # 60 monthly periods: refused (periods)
"""

from __future__ import annotations

import resource
import sys
import time

import planner

months, period, nhw = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
hw = ["h100-sxm", "h200", "l40s", "a100-80gb", "b200", "mi300x", "l4", "a10g", "a100-40gb", "gaudi3", "tpu-v5e", "tpu-v6e"][:nhw]
classes = [{"name": f"c{i}", "queries_per_day": 2e5 * (i + 1), "input_tokens": 300 + 200 * i, "output_tokens": 100 + 30 * i,
            "ttft_ms": 2000, "tpot_ms": 100, "shared_prefix_tokens": 100 + 20 * i, "repeat_rate": 0.05} for i in range(10)]
sc = planner.scenario_from_dict({"schema_version": 1, "name": "large", "model": {"base": "llama-3.1-70b"},
    "workload": classes, "horizon": {"months": months, "period_months": period, "growth_per_year": 0.5},
    "market": {"hardware": hw, "modes": ["on-demand", "reserved-1y", "reserved-3y", "buy"]},
    "quality": {"max_drop": 20},
    "technique_settings": {"quantization": {"quality_retention": {"w4a8": 0.97, "fp4": 0.97}},
                           "kv_quantization": {"quality_retention": {"kv-int4": 0.98}},
                           "caching": {"semantic_hit_rate": 0.2}}})
t = time.time()
try:
    p = planner.plan(sc)
    print(p.status, round(p.lifetime_cost_usd or 0), p.solver.pruning if p.solver else None, p.message[:200])
except planner.PlannerError as e:
    print("refused:", e)
print("total", round(time.time() - t, 1), "s; max RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MB")
