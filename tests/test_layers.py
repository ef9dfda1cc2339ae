"""Imports flow one way between the stages (DESIGN.md §10): a module may import the base modules, its
own package, and packages of earlier stages — never a later one.  Every ``import`` statement counts,
also those inside functions (lazy imports are still dependencies)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: (group, rank): lower ranks come first in the pipeline.  Groups of equal rank may not import each other.
STAGES: tuple[tuple[str, float], ...] = (
    ("planner.errors", 0), ("planner.units", 0), ("planner.output", 0.5), ("planner.inputs", 0.5),  # base modules
    ("planner.scenario", 1),
    ("planner.catalog", 2),
    ("planner.physics", 3),
    ("techniques", 4),
    ("planner.economics", 5),
    ("planner.plan_model", 5.5),  # the result contract: reads physics' trace entries
    ("planner.optimize", 6),
    ("planner.insight", 7),
    ("planner.report", 8),
    ("planner.api", 8.5), ("planner", 8.6),  # the package re-exports the API
    ("planner.__main__", 9.5),
    ("planner.cli", 9),
)


def stage_of(module: str) -> tuple[str, float]:
    """The most specific stage group that ``module`` belongs to."""
    best: tuple[str, float] | None = None
    for group, rank in STAGES:
        if (module == group or module.startswith(group + ".")) and (best is None or len(group) > len(best[0])):
            best = (group, rank)
    if best is None:
        raise AssertionError(f"{module} belongs to no stage: add it to STAGES")
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every project import in ``path``; ``from pkg import sub`` names the submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                candidate = f"{base}.{a.name}"
                is_module = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() or \
                    (ROOT / Path(*candidate.split("."))).is_dir()
                found.append((node.lineno, candidate if is_module else base))
    return [(line, m) for line, m in found if m.split(".")[0] in ("planner", "techniques")]


def project_modules() -> list[Path]:
    return sorted(p for pkg in ("planner", "techniques") for p in (ROOT / pkg).rglob("*.py"))


def violations() -> list[str]:
    found = []
    for path in project_modules():
        module = module_name(path)
        group, rank = stage_of(module)
        for line, target in imported_modules(path, module):
            t_group, t_rank = stage_of(target)
            if t_group != group and t_rank >= rank:
                found.append(f"{path.relative_to(ROOT)}:{line}: {group} (stage {rank}) imports {target} "
                             f"(stage {t_rank})")
    return found


def test_imports_point_backwards_only() -> None:
    assert violations() == []


@pytest.mark.parametrize(("module", "target"), [
    ("planner.physics.roofline", "planner.optimize.milp"),
    ("planner.scenario.schema", "planner.catalog.schema"),
    ("techniques.base", "planner.economics.offers"),
])
def test_the_check_catches_a_backward_stage(module: str, target: str) -> None:
    (_, rank), (_, t_rank) = stage_of(module), stage_of(target)
    assert t_rank >= rank, "a later stage is found later"


def test_every_module_has_a_stage() -> None:
    for path in project_modules():
        stage_of(module_name(path))
