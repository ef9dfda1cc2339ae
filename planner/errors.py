"""One exception tree for the planner.

::

    PlannerError                       base; the CLI maps it to exit code 2 unless noted
    ├── InputError                     bad user input: carries ``field`` (dotted path) and ``reason``
    │   ├── ScenarioError              a scenario file or ``--set`` override is invalid
    │   └── UnknownSlugError           a model / hardware / precision slug is not in the catalog
    ├── CatalogError                   a shipped or overlay catalog row is invalid (incl. missing provenance)
    ├── PluginError                    a technique plug-in breaks the contract (named in the message)
    ├── FitError                       the requested deployment does not fit (memory, TP domain)
    └── OutputError                    an output path cannot be written

Every error renders as one line: ``<field>: <reason>``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

#: Process exit code for any bad-input error (documented in the README).
EXIT_BAD_INPUT: int = 2


class PlannerError(Exception):
    """Base class. ``field`` is a dotted path into the input, or ``""`` when none applies."""

    exit_code: int = EXIT_BAD_INPUT

    def __init__(self, reason: str, field: str = "", problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        #: ``(field, reason)`` of each line when one error reports several problems (``reason`` holds the lines)
        self.problems: tuple[tuple[str, str], ...] = tuple(problems) or ((field, reason),)

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class InputError(PlannerError):
    """Bad user input."""


class ScenarioError(InputError):
    """A scenario file or an override is invalid."""


class UnknownSlugError(InputError):
    """A slug names nothing in the catalog; the message suggests the closest valid slug."""

    def __init__(self, kind: str, slug: str, known: Iterable[str], field: str = "") -> None:
        known_sorted = sorted(known)
        close = suggestions(slug, known_sorted)
        others = f" (or {', '.join(repr(c) for c in close[1:])})" if len(close) > 1 else ""
        hint = f"; did you mean '{close[0]}'{others}?" if close else f"; known: {', '.join(known_sorted)}"
        super().__init__(f"unknown {kind} '{slug}'{hint}", field or kind)
        self.slug = slug
        self.suggestion = close[0] if close else None


#: Most prefix matches a typo's message lists (the best first).
MAX_PREFIX_SUGGESTIONS = 3


def suggestions(slug: str, known: Iterable[str]) -> list[str]:
    """Valid slugs to suggest for ``slug``, best first.

    A slug the user typed is usually a truncation (``h100`` for ``h100-sxm``), so known slugs that
    start with it come first — by similarity, then name — and up to ``MAX_PREFIX_SUGGESTIONS`` are
    given; only without one does plain similarity decide (``difflib``, one suggestion), which would
    otherwise prefer ``h200`` (one letter off) to ``h100-sxm``.  A slug typed in another case (``L4``;
    slugs are case-sensitive) is answered with the known one alone (until 2026-12-07 it was left out,
    so ``L4`` suggested ``l40s``).
    """
    known = sorted(known)
    typed = slug.strip().lower()
    same = [k for k in known if k.lower() == typed and k != slug]  # another case of a known slug: that one
    if same:
        return same[:MAX_PREFIX_SUGGESTIONS]
    prefixed = [k for k in known if typed and k.lower().startswith(typed) and k.lower() != typed]
    if prefixed:
        ranked = sorted(prefixed, key=lambda k: (-difflib.SequenceMatcher(None, typed, k.lower()).ratio(), k))
        return ranked[:MAX_PREFIX_SUGGESTIONS]
    return difflib.get_close_matches(slug, known, n=1, cutoff=0.5)


class CatalogError(PlannerError):
    """A catalog file or row is invalid."""


class PluginError(PlannerError):
    """A technique plug-in fails validation; ``field`` names the plug-in."""


class FitError(InputError):
    """The requested deployment does not fit the hardware (memory or scale-up domain)."""


class SweepInterrupted(PlannerError):
    """A sweep stopped by Ctrl-C or SIGTERM: finished rows are written; ``--resume`` continues it."""

    exit_code = 130


class OutputError(PlannerError):
    """An output file cannot be written."""


class NotApplicable(Exception):  # noqa: N818  (a verdict, not an error: the variant is excluded)
    """Raised by an option's transform when the profile it receives cannot take it (e.g. a draft
    model that is not smaller than the model served after distillation).  The variant is excluded
    with this message as its reason; any other exception is a plug-in failure."""
