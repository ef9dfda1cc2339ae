"""Fuzz the scenario loader: mutated bytes of the demo scenario must load or raise a PlannerError.

    python benchmarks/fuzz_loader.py [EXAMPLES]

Any other exception is a crash: the input is written to tests/corpus/fuzz-<n>.toml so that it
becomes a corpus case, and the script exits 1.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import planner
from planner.errors import PlannerError

DEMO = planner.demo_scenario_path().read_bytes()
CRASHES: list[bytes] = []


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, cut, insert in edits:
        at = pos % (len(out) + 1)
        out[at:at + cut] = insert
    return bytes(out)


def check(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.toml"
        path.write_bytes(raw)
        try:
            planner.load_scenario(path)
        except PlannerError:
            pass
        except Exception:  # noqa: BLE001  (this is what the fuzzer looks for)
            CRASHES.append(raw)
            raise


def main(examples: int = 3000) -> None:
    edit = st.tuples(st.integers(0, len(DEMO)), st.integers(0, 40),
                     st.binary(max_size=12) | st.sampled_from([b"nan", b"inf", b"-1", b"1e309", b'"x"', b"[", b"{",
                                                               b"=", b"\n[[workload]]\n", b"\x00", b"\xff\xfe"]))

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(edit, min_size=1, max_size=6))
    def run(edits: list[tuple[int, int, bytes]]) -> None:
        check(mutate(DEMO, edits))

    try:
        run()
    except Exception as exc:  # noqa: BLE001
        out = Path(__file__).parent.parent / "tests" / "corpus" / f"fuzz-{len(CRASHES)}.toml"
        out.write_bytes(CRASHES[-1])
        print(f"crash: {type(exc).__name__}: {exc}; input written to {out}")
        sys.exit(1)
    print(f"{examples} mutated scenarios: every one loaded or was refused with a PlannerError")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
