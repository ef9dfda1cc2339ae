"""Input and output behaviour a mutation review found unchecked: the output guards and the atomic
write (``planner.output``), bounded reads and the duplicate-key messages (``planner.inputs``), the
error tree and typo suggestions (``planner.errors``), and the scenario loader's document formats,
``--set`` paths, error lists, ``model.base`` / ``measured_file`` resolution and the measurements CSV
(``planner.scenario.loading``).

No test solves anything: every figure is small and written out by hand (similarity ratios are
``difflib``'s ``2·M / (len(a) + len(b))``, ``M`` the matched characters)."""

from __future__ import annotations

import errno
import io
import json
import os
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, RootModel

from planner import inputs, output
from planner.errors import (
    EXIT_BAD_INPUT,
    FitError,
    InputError,
    OutputError,
    PlannerError,
    ScenarioError,
    SweepInterrupted,
    UnknownSlugError,
    suggestions,
)
from planner.inputs import LIMIT_BYTES, MIB, read_bounded
from planner.output import (
    check_writable,
    current_umask,
    json_document,
    output_mode,
    to_json,
    write_atomic,
)
from planner.scenario.loading import (
    apply_override,
    files_named,
    load_scenario,
    read_document,
    scenario_from_dict,
)
from tests.conftest import file_mode
from tests.scenario.test_loading_hand_figures import chat, data

HARDWARE = ["a100-40gb", "a100-80gb", "a10g", "b200", "h100-sxm", "h200", "l4", "l40s", "mi300x"]
CSV_HEADER = "hardware,workload,requests_per_s,source\n"


def write_scenario(path: Path, **over: Any) -> Path:
    path.write_text(json.dumps(data(**over)))
    return path


def refused_dict(raw: dict[str, Any], base_dir: Path | str = ".") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw, base_dir=base_dir)
    return info.value


def _stdin(monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))


# --------------------------------------------------------------------------- output guards


def test_a_directory_is_refused_as_a_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as info:
        check_writable(tmp_path, "-o")
    assert info.value.reason == "is a directory, expected a file path"
    assert info.value.field == f"-o {tmp_path}"


def test_an_input_that_does_not_exist_does_not_stop_a_write(tmp_path: Path) -> None:
    """A missing input cannot be the output (nothing to compare): the check passes, no exception."""
    target = tmp_path / "report.md"
    target.write_text("old")
    assert check_writable(target, inputs=[tmp_path / "missing.toml"]) == target


def test_the_output_may_not_be_an_input_even_through_a_link(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("x")
    link = tmp_path / "link.toml"
    link.symlink_to(scenario)
    for target in (scenario, link):
        with pytest.raises(OutputError, match=r"is an input of this run \(.*s\.toml\): writing would destroy it"):
            check_writable(target, inputs=[scenario])
    assert scenario.read_text() == "x"


def test_a_device_is_never_replaced() -> None:
    with pytest.raises(OutputError, match="is not a regular file"):
        check_writable("/dev/null", "--plot")


@pytest.mark.parametrize("mode", [0o200, 0o020, 0o002])
def test_any_write_bit_makes_a_file_writable(tmp_path: Path, mode: int) -> None:
    """Read-only means no write bit at all (user, group or other): one of them is enough."""
    target = tmp_path / "out.md"
    target.write_text("x")
    target.chmod(mode)
    assert check_writable(target) == target


def test_a_read_only_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("x")
    target.chmod(0o444)
    with pytest.raises(OutputError, match="is read-only: pass --force"):
        check_writable(target)
    assert check_writable(target, force=True) == target


def test_a_parent_that_is_a_file_or_missing_is_named(tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    with pytest.raises(OutputError) as info:
        check_writable(afile / "out.md")
    assert info.value.reason == f"'{afile}' is a file, not a directory"
    with pytest.raises(OutputError) as info:
        check_writable(tmp_path / "nope" / "out.md")
    assert info.value.reason == f"directory '{tmp_path / 'nope'}' does not exist"


# --------------------------------------------------------------------------- modes and the umask


def test_without_proc_the_umask_is_read_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where ``/proc/self/status`` cannot be read, the umask is set and put back: 0o077 stays 0o077."""
    def no_proc(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(output, "open", no_proc, raising=False)
    old = os.umask(0o077)
    try:
        assert current_umask() == 0o077
        assert os.umask(0o077) == 0o077  # still in force afterwards
    finally:
        os.umask(old)


def test_a_new_file_is_0666_less_the_umask_not_0644(tmp_path: Path) -> None:
    """umask 002 (a group-shared directory): 0o666 & ~0o002 = 0o664, group-writable like ``>``."""
    old = os.umask(0o002)
    try:
        write_atomic(tmp_path / "a.md", "x")
        assert file_mode(tmp_path / "a.md") == 0o664
        os.umask(0o027)
        assert output_mode(tmp_path / "new.md") == 0o640  # 0o666 & ~0o027
    finally:
        os.umask(old)


def test_only_a_regular_file_lends_its_mode(tmp_path: Path, umask_022: None) -> None:
    """/dev/null is 0o666 and a directory 0o7xx: neither is kept; 0o666 & ~0o022 = 0o644."""
    assert output_mode(Path("/dev/null")) == 0o644
    tmp_path.chmod(0o711)
    assert output_mode(tmp_path) == 0o644


def test_write_atomic_replaces_a_read_only_file(tmp_path: Path) -> None:
    """The read-only refusal is the command's (before any work); the write itself replaces the file
    and keeps its 0o444."""
    target = tmp_path / "out.md"
    target.write_text("old")
    target.chmod(0o444)
    write_atomic(target, "new")
    assert target.read_text() == "new" and file_mode(target) == 0o444


def test_text_is_written_as_utf8(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.md", "é€")
    assert (tmp_path / "a.md").read_bytes() == "é€".encode()  # c3 a9 e2 82 ac


def test_a_failed_write_leaves_no_temporary_file_and_names_the_option(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.md"
    target.write_text("old")

    temporaries: list[str] = []

    def fail(tmp: str, dest: Any) -> None:
        temporaries.append(Path(tmp).name)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "replace", fail)
    with pytest.raises(OutputError) as info:
        write_atomic(target, "new", "--plot")
    assert str(info.value) == f"--plot {target}: cannot write: No space left on device"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"] and target.read_text() == "old"
    # the temporary was a hidden file beside the target: ".out.md.<unique>.tmp"
    assert len(temporaries) == 1 and temporaries[0].startswith(".out.md.") and temporaries[0].endswith(".tmp")


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.md"

    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- JSON documents


class Estimate(BaseModel):
    """Named as a result type: its JSON gets schema_version 1 and kind "estimate"."""

    a: int = 1
    schema_version: int = 7


class Explanation(BaseModel):
    kind: str = "own"
    a: int = 1


def test_a_model_whose_schema_version_is_not_first_keeps_its_text_and_gets_kind_first() -> None:
    """A schema_version field of its own is never doubled; the kind goes straight after ``{``."""
    assert to_json(Estimate()) == '{\n  "kind": "estimate",\n  "a": 1,\n  "schema_version": 7\n}\n'


def test_a_model_with_its_own_kind_keeps_it() -> None:
    assert to_json(Explanation()) == '{\n  "schema_version": 1,\n  "kind": "own",\n  "a": 1\n}\n'


def test_a_json_value_that_is_not_an_object_still_ends_in_a_newline() -> None:
    assert to_json(RootModel[list[int]]([1, 2])) == "[\n  1,\n  2\n]\n"


def test_result_kinds_are_those_the_readme_lists() -> None:
    """README: ``kind`` is ``estimate``, ``training-cost``, ``explanation``, ``breakeven``, ``sweep``,
    ``calibration`` (the plan and the preview carry their own)."""
    assert output.RESULT_KINDS == {"Estimate": "estimate", "TrainingCost": "training-cost",
                                   "Explanation": "explanation", "BreakEven": "breakeven",
                                   "Calibration": "calibration", "SweepResult": "sweep"}
    assert output.DEFAULT_SCHEMA_VERSION == 1


def test_json_document_puts_schema_version_then_kind_first() -> None:
    assert json_document({"a": 1}) == '{\n  "schema_version": 1,\n  "a": 1\n}\n'
    assert json_document({"a": 1, "schema_version": 1}, kind="k") == \
        '{\n  "schema_version": 1,\n  "kind": "k",\n  "a": 1\n}\n'
    assert json_document([1], key="items", kind="x") == \
        '{\n  "schema_version": 1,\n  "kind": "x",\n  "items": [\n    1\n  ]\n}\n'


# --------------------------------------------------------------------------- the error tree


def test_exit_codes_and_the_tree() -> None:
    assert EXIT_BAD_INPUT == 2 and PlannerError("r").exit_code == 2
    assert SweepInterrupted("stopped").exit_code == 130
    assert issubclass(FitError, InputError) and issubclass(ScenarioError, InputError)


def test_an_error_without_a_field_is_its_reason_and_one_problem() -> None:
    assert str(PlannerError("bad")) == "bad"
    assert str(PlannerError("bad", "a.b")) == "a.b: bad"
    assert PlannerError("bad", "a.b").problems == (("a.b", "bad"),)


def test_an_unknown_slug_is_named_by_its_kind_and_lists_the_known_sorted() -> None:
    error = UnknownSlugError("precision", "zzz", ["fp8", "bf16"])
    assert error.field == "precision" and error.suggestion is None
    assert error.reason == "unknown precision 'zzz'; known: bf16, fp8"
    assert UnknownSlugError("hardware", "zzz", HARDWARE, field="market.hardware").field == "market.hardware"


def test_three_prefix_matches_are_listed_best_first() -> None:
    """``a10``: a10g (2·3/7 = 0.857) before a100-40gb and a100-80gb (2·3/12 = 0.5 each, then by name)."""
    assert suggestions("a10", HARDWARE) == ["a10g", "a100-40gb", "a100-80gb"]
    error = UnknownSlugError("hardware", "a10", HARDWARE)
    assert error.reason == "unknown hardware 'a10'; did you mean 'a10g' (or 'a100-40gb', 'a100-80gb')?"


def test_at_most_three_prefix_matches() -> None:
    """Four slugs start with ``x``; the three most similar (shortest) are given: x1 (2/3), x12 (2/4),
    x123 (2/5); x1234 (2/6) is left out."""
    assert suggestions("x", ["x1234", "x123", "x12", "x1"]) == ["x1", "x12", "x123"]
    # equally similar (2·1/4 = 0.5 each): by name, qab before qba
    assert suggestions("q", ["qba", "qab"]) == ["qab", "qba"]


def test_a_slug_in_another_case_suggests_that_slug() -> None:
    """``L4`` is ``l4`` in another case (slugs are case-sensitive): it suggests ``l4``, not ``l40s``, the
    slug it is also a prefix of; ``H100-SXM`` suggests ``h100-sxm``."""
    assert suggestions("L4", HARDWARE) == ["l4"]
    assert suggestions("H100-SXM", HARDWARE) == ["h100-sxm"]
    assert UnknownSlugError("hardware", "L4", HARDWARE).reason == "unknown hardware 'L4'; did you mean 'l4'?"


@pytest.mark.parametrize(("typed", "expected"), [
    ("", []),               # nothing typed: every slug "starts with" it, none is suggested
    (" h100", ["h100-sxm"]),  # spaces around the slug are not part of it
    ("b20x", ["b200"]),     # one suggestion only: b200 (2·3/8 = 0.75), not h200 too (2·2/8 = 0.5)
    ("lx", ["l4"]),         # l4 at 2·1/4 = 0.5: the cutoff is inclusive
    ("b2zzz", []),          # b200 at 2·2/9 = 0.44: below the 0.5 cutoff
])
def test_similarity_suggestions(typed: str, expected: list[str]) -> None:
    assert suggestions(typed, HARDWARE) == expected


# --------------------------------------------------------------------------- bounded reads


def test_missing_files_and_directories_are_named_as_such(tmp_path: Path) -> None:
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    cases = [(tmp_path / "missing.toml", "file not found"),
             (afile / "s.toml", "file not found (cannot read: a parent of it is not a directory)"),
             (tmp_path, "is a directory, expected a scenario file")]
    for path, reason in cases:
        with pytest.raises(ScenarioError) as info:
            read_bounded(path, "scenario", ScenarioError)
        assert (info.value.field, info.value.reason) == (str(path), reason)


def test_a_file_of_exactly_the_limit_is_read_and_one_past_it_is_named_in_mib(tmp_path: Path) -> None:
    """Sparse files (their size is what is checked): 16 MiB exactly is read; 16.5 MiB is refused as
    ``16.5 MiB`` (16.5 · 1048576 = 17,301,504 bytes), with its bytes and the limit's (16 · 1048576 =
    16,777,216)."""
    exact = tmp_path / "exact.toml"
    with exact.open("wb") as handle:
        handle.truncate(16 * MIB)
    assert len(read_bounded(exact, "scenario", ScenarioError)) == 16 * MIB
    big = tmp_path / "big.toml"
    with big.open("wb") as handle:
        handle.truncate(16 * MIB + MIB // 2)
    with pytest.raises(ScenarioError) as info:
        read_bounded(big, "scenario", ScenarioError)
    assert info.value.reason == ("is 16.5 MiB (17,301,504 bytes): a scenario file may hold at most 16 MiB "
                                 "(16,777,216 bytes)")
    one_past = tmp_path / "one-past.toml"  # one byte past reads 16.0 MiB: the bytes say why it is refused
    with one_past.open("wb") as handle:
        handle.truncate(16 * MIB + 1)
    with pytest.raises(ScenarioError) as info:
        read_bounded(one_past, "scenario", ScenarioError)
    assert info.value.reason == ("is 16.0 MiB (16,777,217 bytes): a scenario file may hold at most 16 MiB "
                                 "(16,777,216 bytes)")


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``stat`` says 0 bytes, 9 are there with a limit of 8: reading ``limit + 1`` bytes finds it."""
    path = tmp_path / "s.toml"
    path.write_bytes(b"123456789")
    real = os.stat(path)
    shrunk = os.stat_result((real.st_mode, real.st_ino, real.st_dev, real.st_nlink, real.st_uid, real.st_gid, 0,
                             int(real.st_atime), int(real.st_mtime), int(real.st_ctime)))
    monkeypatch.setattr(inputs, "os", SimpleNamespace(stat=lambda p: shrunk))
    monkeypatch.setitem(LIMIT_BYTES, "scenario", 8)
    with pytest.raises(ScenarioError, match="grew past 0 MiB while being read"):
        read_bounded(path, "scenario", ScenarioError)
    monkeypatch.setitem(LIMIT_BYTES, "scenario", 9)  # exactly the limit: read
    assert read_bounded(path, "scenario", ScenarioError) == b"123456789"


def test_limits_are_those_the_module_docstring_states() -> None:
    assert LIMIT_BYTES == {"scenario": 16 * MIB, "catalog overlay": 16 * MIB, "measurements CSV": 64 * MIB,
                           "calibration measurements": 16 * MIB, "config.json": 16 * MIB}


def test_stdin_of_exactly_the_limit_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LIMIT_BYTES, "scenario", 8)
    _stdin(monkeypatch, b"a = 1   ")  # 8 bytes
    assert read_document("-") == {"a": 1}


def test_a_text_only_stdin_is_bounded_and_read_as_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``sys.stdin`` without ``.buffer`` (an embedding, a test harness) is read as text."""
    monkeypatch.setitem(LIMIT_BYTES, "scenario", 8)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n = 'é'"))  # 7 characters, 8 bytes
    assert read_document("-") == {"n": "é"}
    monkeypatch.setattr(sys, "stdin", io.StringIO("n = 12345"))  # 9 characters: past the 8
    with pytest.raises(ScenarioError, match="holds more than 0 MiB"):
        read_document("-")


def test_stdin_is_named_as_the_caller_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LIMIT_BYTES, "catalog overlay", 4)
    _stdin(monkeypatch, b"12345")
    with pytest.raises(ScenarioError) as info:
        read_bounded("-", "catalog overlay", ScenarioError, "--catalog -")
    assert info.value.field == "--catalog -"


def test_a_closed_stdin_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.TextIOWrapper(io.BytesIO(b""))
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    with pytest.raises(ScenarioError) as info:
        read_document("-")
    assert info.value.field == "stdin (-)" and info.value.reason.startswith("cannot read standard input")


# --------------------------------------------------------------------------- TOML keys and tables defined twice


@pytest.mark.parametrize(("text", "message"), [
    ("[a.b]\n[a.b]\n", "table 'a.b' declared twice (line 2)"),  # a dotted table's parts joined by dots
    ('["horizon"]\nmonths = 1\nmonths = 2\n', "key 'horizon.months' defined twice (line 3)"),  # quotes dropped
    ("[a . b]\nc = 1\nc = 2\n", "key 'a.b.c' defined twice (line 3)"),  # spaces in a header dropped
    ("[t]\na = 1\n[t.a]\n", "key 't.a' defined twice (line 3)"),  # a header is its own full path, not under [t]
    # five lines, the duplicate on line 3: the bisection's first probe (line 3) fails, and line 2 does not
    ("a = 1\nb = 2\na = 3\nc = 4\nd = 5\n", "key 'a' defined twice (line 3)"),
])
def test_a_table_header_is_named_as_a_key(text: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, text.encode())
    with pytest.raises(ScenarioError) as info:
        read_document("-")
    assert info.value.reason == f"not valid TOML: {message}"


@pytest.mark.parametrize("text", [
    '"root:x" = 1\n"root:x" = 2\n',             # a key that does not look like one is not named
    '["root:x"]\n["root:x"]\n',                 # nor a table
    "x = {a = 1, b = 2}\nx = {a = 1, b = 2}\n",  # two leaves: no single key to name
])
def test_a_duplicate_that_cannot_be_named_keeps_tomllibs_message(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, text.encode())
    with pytest.raises(ScenarioError) as info:
        read_document("-")
    assert info.value.reason.startswith(("not valid TOML: Cannot overwrite a value (at line 2",
                                         "not valid TOML: Cannot declare ('root:x',) twice (at line 2"))


# --------------------------------------------------------------------------- documents


def test_stdin_is_json_when_it_starts_with_a_brace_after_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, b'\n  {"a": 1}')
    assert read_document("-") == {"a": 1}


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbfa = 1\n")
    assert read_document(path) == {"a": 1}


@pytest.mark.parametrize(("text", "reason"), [
    ('{"a": 1, "a": 2}', "not valid JSON: duplicate key 'a'"),
    ('{"a": NaN}', "not valid JSON: non-finite number NaN is not allowed"),
    ("[1]", "a scenario must be a JSON object"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_bad_json_documents(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        read_document(path)
    assert info.value.reason == reason and info.value.field == str(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"name = '\xff'\n")
    with pytest.raises(ScenarioError) as info:
        read_document(path)
    assert (info.value.field, info.value.reason) == (str(path), "not UTF-8 text")


# --------------------------------------------------------------------------- --set paths


def test_a_set_path_creates_missing_tables() -> None:
    raw: dict[str, Any] = {}
    apply_override(raw, "a.b.c=1")
    assert raw == {"a": {"b": {"c": 1}}}


def test_a_set_value_too_large_to_read_is_an_input_error() -> None:
    """A 5,000-digit integer is past Python's 4,300-digit conversion limit: refused naming ``--set``,
    never taken as the bare string."""
    with pytest.raises(ScenarioError) as info:
        apply_override(data(), "horizon.months=" + "1" * 5000)
    assert (info.value.field, info.value.reason) == ("--set", "value too large or nested too deeply")


def test_set_errors_name_the_path_walked() -> None:
    with pytest.raises(ScenarioError) as info:
        apply_override(data(), "workload.nope.ttft_ms=1")
    assert info.value.field == "--set workload"
    assert info.value.reason == "no element named 'nope' (have: ['chat'])"
    with pytest.raises(ScenarioError) as info:
        apply_override(data(), "workload.chat=1")
    assert info.value.reason == "cannot replace a whole array element; set one of its fields"
    with pytest.raises(ScenarioError) as info:
        apply_override(data(), "horizon.months.x=1")
    assert (info.value.field, info.value.reason) == ("--set horizon.months.x", "'horizon.months' is a value, not a table")


# --------------------------------------------------------------------------- validation errors


def test_a_scenario_level_error_is_named_by_the_file(tmp_path: Path) -> None:
    """A profile beside ``peak_to_average = 2`` is a whole-scenario problem (no field): the file is named."""
    bad = {"workload": [chat(profile="flat")], "horizon": {"months": 6, "period_months": 3, "peak_to_average": 2}}
    path = write_scenario(tmp_path / "s.json", **bad)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == str(path)
    # pydantic's "Value error, " prefix is dropped
    assert info.value.reason == ("workload 'chat' gives a profile and horizon.peak_to_average is 2: "
                                 "give one load shape, not both")
    assert refused_dict(data(**bad)).field == "scenario"


def test_two_problems_are_listed_without_a_more_line() -> None:
    """Two classes with a bad ttft each: two lines, and no "... and 0 more"."""
    err = refused_dict(data(workload=[chat(ttft_ms=-1), chat(name="b", ttft_ms=-1)]))
    assert [f for f, _ in err.problems] == ["workload[chat].ttft_ms", "workload[b].ttft_ms"]
    assert len(err.reason.splitlines()) == 2 and "more problem" not in err.reason


def test_seven_problems_list_five_and_count_the_rest() -> None:
    """Seven classes, each with a negative ttft: five lines, then ``... and 2 more problem(s)`` (7 − 5)."""
    err = refused_dict(data(workload=[chat(name=f"c{i}", ttft_ms=-1) for i in range(7)]))
    lines = err.reason.splitlines()
    assert len(lines) == 6 and len(err.problems) == 5
    assert lines[0].startswith("workload[c0].ttft_ms: ") and lines[4].startswith("workload[c4].ttft_ms: ")
    assert lines[5] == "... and 2 more problem(s)"


# --------------------------------------------------------------------------- model.base and measured_file


def test_a_set_model_path_is_read_relative_to_the_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--set model.base=cfg.json`` is resolved like the file's own value (beside the scenario), not from
    the working directory."""
    folder = tmp_path / "sc"
    folder.mkdir()
    (folder / "cfg.json").write_text("{}")
    path = write_scenario(folder / "s.json")
    monkeypatch.chdir(tmp_path)
    assert load_scenario(path, ["model.base=cfg.json"]).model.base == str(folder / "cfg.json")


def test_files_named_of_stdin_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, b'measured_file = "m.csv"\n')
    assert files_named("-") == []
    assert sys.stdin.read() == 'measured_file = "m.csv"\n'  # still there for the load


def test_files_named_applies_overrides_and_resolves_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sc"
    (folder / "sub").mkdir(parents=True)
    path = write_scenario(folder / "s.json")
    assert files_named(path, ["measured_file=m.csv"]) == [str(folder / "m.csv")]
    assert files_named(path, ["measured_file=/abs/m.csv"]) == ["/abs/m.csv"]
    # a folder with a slash, beside the scenario: its config.json
    assert files_named(path, ["model.base=sub/"]) == [str(folder / "sub" / "config.json")]
    # a path (it has a slash) is named even before it exists: the load would read it
    assert files_named(path, ["model.base=nope/dir"]) == ["nope/dir"]
    # a bare folder name without slash or .json: named when it exists (from the working directory)
    (tmp_path / "cfgdir").mkdir()
    monkeypatch.chdir(tmp_path)
    assert files_named(path, ["model.base=cfgdir"]) == [str(Path("cfgdir") / "config.json")]


def test_measured_file_is_read_from_base_dir(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text(CSV_HEADER + "h100-sxm,chat,2.5,bench\n")
    sc = scenario_from_dict(data(measured_file="m.csv"), base_dir=tmp_path)
    assert [(m.workload, m.requests_per_s) for m in sc.measured] == [("chat", 2.5)]
    assert sc.measured_file is None  # consumed: the rows themselves are the scenario's


def _csv_refused(tmp_path: Path, text: str | bytes, **over: Any) -> ScenarioError:
    path = tmp_path / "m.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return refused_dict(data(measured_file="m.csv", **over), base_dir=tmp_path)


def test_an_empty_measured_table_beside_a_csv_is_refused_too(tmp_path: Path) -> None:
    """``[measured]`` (a table, even an empty one) is not ``[[measured]]`` rows."""
    err = _csv_refused(tmp_path, CSV_HEADER + "h100-sxm,chat,1,bench\n", measured={})
    assert (err.field, err.reason) == ("measured", "must be an array of tables ([[measured]] rows)")


def test_measured_file_must_be_a_string(tmp_path: Path) -> None:
    err = refused_dict(data(measured_file=5), base_dir=tmp_path)
    assert (err.field, err.reason) == ("measured_file", "must be the path of a CSV file")


def test_a_csv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    err = _csv_refused(tmp_path, CSV_HEADER.encode() + b"h100-sxm,chat,1,\xff\n")
    assert (err.field, err.reason) == ("measured_file", f"{tmp_path / 'm.csv'} is not UTF-8 text")


def test_a_cell_past_the_csv_limit_names_its_line(tmp_path: Path) -> None:
    """Line 1 the header, line 2 a good row, line 3 a 200,000-character cell (past csv's 131,072)."""
    err = _csv_refused(tmp_path, CSV_HEADER + "h100-sxm,chat,1,b\nh100-sxm,chat," + "x" * 200_000 + ",b\n")
    assert err.field == "measured_file m.csv near line 3" and err.reason.startswith("not valid CSV: ")


def test_an_empty_csv_has_no_header(tmp_path: Path) -> None:
    assert str(_csv_refused(tmp_path, "")).endswith("not one: no header")


def test_unknown_columns_are_numbered_from_one_and_at_most_five(tmp_path: Path) -> None:
    """Columns 2, 4, 5, 6, 7 and 8 are unknown; the first five are given."""
    err = _csv_refused(tmp_path, "hardware,x1,workload,x2,x3,x4,x5,x6,source\n")
    assert err.reason.endswith("not one: column(s) 2, 4, 5, 6, 7 of line 1")


@pytest.mark.parametrize(("row", "reason"), [
    ("h100-sxm,chat,1,bench,extra", "more cells than header columns"),
    ("h100-sxm,chat,inf,bench", "requests_per_s: not a number"),
    ("h100-sxm,chat,0,bench", "requests_per_s: Input should be greater than 0"),
    ("h100-sxm,chat,,bench", "row: give exactly one of requests_per_s or output_tokens_per_s (or meets_slo = false)"),
])
def test_a_bad_row_names_its_line(tmp_path: Path, row: str, reason: str) -> None:
    err = _csv_refused(tmp_path, CSV_HEADER + row + "\n")
    assert (err.field, err.reason) == ("measured_file m.csv line 2", reason)


@pytest.mark.parametrize(("header", "row", "reason"), [
    ("tp", "2.5", "tp: not a number"),
    ("output_tokens_per_s", "nan", "output_tokens_per_s: not a number"),
    ("meets_slo", "maybe", "meets_slo: expected true or false"),
])
def test_typed_cells(tmp_path: Path, header: str, row: str, reason: str) -> None:
    err = _csv_refused(tmp_path, f"hardware,workload,{header},source\nh100-sxm,chat,{row},bench\n")
    assert (err.field, err.reason) == ("measured_file m.csv line 2", reason)


def test_cells_are_typed_and_trimmed(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("hardware,workload,tp,meets_slo,source\nh100-sxm,chat, 2 , No ,bench\n")
    sc = scenario_from_dict(data(measured_file="m.csv"), base_dir=tmp_path)
    assert (sc.measured[0].tp, sc.measured[0].meets_slo) == (2, False)


def test_a_long_key_in_a_toml_error_is_cut_to_80_characters(tmp_path: Path) -> None:
    """A 200,000-character table name declared twice: tomllib quotes it whole; the message keeps its first
    80 characters and says how long it was, so the file's content is never echoed at length.  A short
    key that is no bare key (``root:x``) is quoted as tomllib has it."""
    from planner.inputs import toml_error

    def message(text: str) -> str:
        with pytest.raises(tomllib.TOMLDecodeError) as info:
            tomllib.loads(text)
        return toml_error(info.value, text)

    long_name = "x" * 200_000
    got = message(f'["{long_name}"]\na = 1\n["{long_name}"]\n')
    assert got == f"Cannot declare ('{'x' * 80}…' (200,000 characters),) twice (at line 3, column 200004)"
    assert message('["root:x"]\na = 1\n["root:x"]\n') == "Cannot declare ('root:x',) twice (at line 3, column 10)"
