"""Fit each serving engine's speed relative to the engine the hardware's efficiency row was fitted on,
from published same-hardware pairs, and print the rows as TOML for ``catalogs/engines.toml``.

A *pair* is two published cases of one publication (same source), one model, hardware, precision,
parallelism, batch and request shape, and one metric, measured with two engines.  Its speed ratio is
``r = published_X / published_ref`` for a throughput and ``published_ref / published_X`` for a time.
For engine ``X`` on hardware ``h`` relative to ``ref`` (the ``engine`` of the efficiency row ``h``
uses):

    speed = exp(mean(log r))            (geometric mean over the pairs)
    spread = (P90(r) − P10(r)) / (2 · speed)

Pairs are ratios of published figures: the roofline is not involved, so the factor holds whether or
not the physics reproduces the publication's absolute level.  When ``X`` and ``ref`` never ran in
the same publication on ``h`` there is no row, and an estimate asking for ``X`` on ``h`` is refused
naming what is missing.

    python benchmarks/fit_engines.py
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import planner
from planner.physics.validation import case_source, load_cases

CASE_FILES = [Path("tests/data/calibration_cases.toml"), *sorted(Path("tests/data/calibration").glob("*.toml"))]
TIME_METRICS = {"ttft_ms", "tpot_ms", "prefill_ms", "decode_step_ms"}
FIT_DATE = "2026-12-05"
#: The engine of cases that do not name one (the original calibration set: TensorRT-LLM-class engines).
DEFAULT_CASE_ENGINE = "tensorrt-llm"


def _key(case: dict[str, Any]) -> tuple[Any, ...]:
    return (case_source(case), case["model"], case["hardware"], case["precision"], case.get("tp"), case.get("gpus"),
            case.get("batch"), case.get("input_tokens"), case["output_tokens"], case["metric"])


def pairs_by_engine() -> dict[tuple[str, str, str], list[tuple[str, str, float, str]]]:
    """{(engine, hardware, relative_to): [(case id, reference case id, speed ratio, model)]}."""
    catalog = planner.load_catalogs(use_env=False)
    by_key: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = defaultdict(dict)
    for case, _ in load_cases(CASE_FILES):
        if "free_input_range" in case or "input_from" in case or case["metric"] == "fits":
            continue
        by_key[_key(case)][case.get("engine", DEFAULT_CASE_ENGINE)] = case
    out: dict[tuple[str, str, str], list[tuple[str, str, float, str]]] = defaultdict(list)
    for key, engines in sorted(by_key.items(), key=lambda kv: str(kv[0])):
        hardware, precision, metric = key[2], key[3], key[9]
        ref = catalog.efficiency_for(hardware, precision).engine
        if ref not in engines:
            continue
        for engine, case in sorted(engines.items()):
            if engine == ref:
                continue
            ratio = case["published"] / engines[ref]["published"]
            out[(engine, hardware, ref)].append(
                (case["id"], engines[ref]["id"], 1.0 / ratio if metric in TIME_METRICS else ratio, case["model"]))
    return out


def main() -> None:
    for (engine, hardware, ref), pairs in sorted(pairs_by_engine().items()):
        ratios = np.array([r for _, _, r, _ in pairs])
        speed = math.exp(float(np.mean(np.log(ratios))))
        p10, p90 = np.quantile(ratios, [0.1, 0.9])
        spread = float((p90 - p10) / 2.0 / speed)
        ids = ", ".join(f"{a}/{b} {r:.2f}" for a, b, r, _ in pairs)
        models = ", ".join(sorted({m for _, _, _, m in pairs}))
        print(f'[[engine]]\nengine = "{engine}"\nhardware = "{hardware}"\nrelative_to = "{ref}"\nspeed = {speed:.3f}')
        print(f"pairs = {len(pairs)}\nspread = {spread:.3f}")
        print(f'note = "geometric mean of {len(pairs)} published same-hardware speed ratio(s) {engine} / {ref} '
              f'(range {ratios.min():.2f}..{ratios.max():.2f}), measured on {models} only: an engine\'s lead differs by '
              f'model and release, so it carries to other models only as far as the spread says; pairs: {ids}"')
        print(f'source = "benchmarks/fit_engines.py on tests/data/calibration_cases.toml and tests/data/calibration/*.toml '
              f'(the cases name their publications)"\nsource_date = "{FIT_DATE}"\n')


if __name__ == "__main__":
    main()
