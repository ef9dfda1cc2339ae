"""How a failed command says so on stderr: one text line per problem, or one JSON object under ``--format json``.

A script that asked for ``--format json`` parses what the command prints; when the command fails it
should not have to parse English either.  So with ``--format json`` anywhere before ``--`` on the command
line, each problem is one JSON object on its own stderr line (on Ctrl-C click first writes an empty line
to end the terminal's ``^C``; it is the only line that is not an object)::

    {"schema_version": 1, "kind": "error", "error": "bad-input", "exit_code": 2,
     "field": "workload[chat].ttft_ms", "reason": "Input should be greater than or equal to 1",
     "message": "whatif: error: workload[chat].ttft_ms: Input should be greater than or equal to 1"}

``error`` is one of :data:`ERROR_KINDS`; ``field`` is the dotted input path (``""`` when none applies,
an option such as ``--batch`` for a usage error); ``message`` is exactly the text line the other formats
print.  Stdout stays empty and the exit code is the same in both forms (README, "Exit codes and errors").
The format is read from the raw arguments, not from click, because a usage error can stop parsing
before the ``--format`` option is seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import click

from planner.output import DEFAULT_SCHEMA_VERSION

#: What went wrong, by exit code family: bad input (2), an internal error (1), an interruption (130).
ERROR_KINDS = ("bad-input", "internal", "interrupted")


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line asks for ``--format json`` (before a ``--`` that ends the options)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            return False
        if arg == "--format=json" or (arg == "--format" and i + 1 < len(argv) and argv[i + 1] == "json"):
            return True
    return False


@dataclass(frozen=True)
class Failures:
    """Writes a command's failures to stderr in the form the command line asked for."""

    as_json: bool

    def report(self, message: str, *, kind: str, exit_code: int, field: str = "", reason: str | None = None) -> None:
        """One problem: ``message`` is the text line (``whatif: error: …``); ``field`` and ``reason`` its parts."""
        if not self.as_json:
            click.echo(message, err=True)
            return
        record = {"schema_version": DEFAULT_SCHEMA_VERSION, "kind": "error", "error": kind, "exit_code": exit_code,
                  "field": field, "reason": message if reason is None else reason, "message": message}
        click.echo(json.dumps(record, ensure_ascii=False), err=True)
