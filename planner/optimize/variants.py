r"""Variants: compose technique options into the combinations the optimiser chooses between
(steps 1–2 of :mod:`planner.optimize.candidates`).

1. **Options per technique** (registry order): the technique's ``options(ctx)``, filtered by the
   scenario's ``[techniques]`` list (omitted = all; ``none`` is always offered unless the list
   leaves it out; a combined option ``a+b`` is allowed when both parts are).  A listed option that
   is unknown, or that the technique cannot offer for this scenario, is an input error naming the
   reason.
2. **Variants** = the product of the chosen options, minus combinations that conflict.  Each
   variant is applied per request class — options in registry order, each a pure
   ``(ServingProfile, Workload) → ServingProfile`` — starting from the base model in BF16 with its
   measured score.  Variants whose per-class profiles are identical to an earlier variant's are
   dropped as duplicates (e.g. ``kv-fp8`` on top of ``fp8``, whose KV is already 8-bit).
   Variants are enumerated in registry order (technique ``order``, then name) and each technique's
   own option order, never in the scenario's list order.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from planner.catalog.schema import ModelSpec
from planner.catalog.store import Catalog
from planner.errors import InputError, ScenarioError
from planner.physics.deployment import resolve_model
from planner.physics.profile import ServingProfile, base_profile
from planner.scenario.schema import Scenario
from techniques.base import (
    NONE_OPTION,
    NotApplicable,
    Option,
    Technique,
    TechniqueContext,
)
from techniques.registry import Registry, default_registry

BASE_PRECISION = "bf16"

@dataclass(frozen=True)
class Exclusion:
    """Something not offered to the optimiser, and why."""

    family: str  # unavailable | conflict | incompatible | duplicate | hardware | context | latency | quality
    subject: str
    reason: str


@dataclass(frozen=True)
class Variant:
    """One compatible combination of options, applied per request class."""

    index: int
    options: Mapping[str, str]  # technique -> option (``none`` included)
    profiles: Mapping[str, ServingProfile]  # class name -> profile

    @property
    def name(self) -> str:
        chosen = [f"{t}:{o}" for t, o in self.options.items() if o != NONE_OPTION]
        return " + ".join(chosen) if chosen else "baseline"

    @property
    def is_baseline(self) -> bool:
        return all(o == NONE_OPTION for o in self.options.values())

    def one_time_flops(self) -> float:
        return max(p.one_time_flops for p in self.profiles.values())

    def monthly_fee_usd(self) -> float:
        """The variant's fixed monthly technique cost, charged once a month whatever the traffic.

        A fixed fee belongs to the deployment, not to a request class, so it is paid once even when a
        plug-in states it per class; where classes disagree the largest is charged (the same rule as
        one-time work: :meth:`one_time_flops`, ``planning.one_time_costs``).  Every model (PuLP,
        direct, sliced), its bounds and the plan read back take the fee from here, so the objective and
        the recomputed cost agree."""
        return max(p.recurring_usd_per_month for p in self.profiles.values())


def _settings_for(technique: Technique, scenario: Scenario) -> object:
    raw = scenario.technique_settings.get(technique.name, {})
    try:
        return technique.Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        path = f"technique_settings.{technique.name}" + (f".{loc}" if loc else "")
        reason = "unknown key (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ScenarioError(reason, path) from None


def _check_technique_names(scenario: Scenario, registry: Registry) -> None:
    for table in ("techniques", "technique_settings"):
        for name in getattr(scenario, table):
            if registry.get(name) is None:
                broken = [f"{label}: {why}" for label, why in registry.load_errors.items() if label.startswith(name)]
                hint = f" (plug-in failed to load: {broken[0]})" if broken else f"; known: {sorted(registry.techniques)}"
                raise ScenarioError(f"unknown technique '{name}'{hint}", f"{table}.{name}")


def _allowed(name: str, allowed: Sequence[str] | None) -> bool:
    if allowed is None:
        return True
    return name in allowed or all(part in allowed for part in name.split("+"))


def _choose_options(
    technique: Technique, ctx: TechniqueContext, allowed: Sequence[str] | None, exclusions: list[Exclusion]
) -> list[Option | None]:
    """The technique's options for this scenario (None stands for ``none``)."""
    offered = technique.options(ctx)
    by_name = {o.name: o for o in offered.options}
    known = {i.name for i in technique.describe(ctx.catalog)} | set(by_name) | set(offered.unavailable)
    path = f"techniques.{technique.name}"
    for listed in allowed or ():
        if listed == NONE_OPTION or listed in by_name:
            continue
        if listed in offered.unavailable:
            raise ScenarioError(f"option '{listed}' cannot be offered: {offered.unavailable[listed]}", path)
        if listed not in known:
            # options named by a pattern (e.g. '<draft>-draft<n>') say what they need
            needs = "".join(f"; {n}: {why}" for n, why in offered.unavailable.items() if "<" in n)
            raise ScenarioError(f"unknown option '{listed}'; known: {sorted(known | {NONE_OPTION})}{needs}", path)
    for name, reason in offered.unavailable.items():
        if _allowed(name, allowed):
            exclusions.append(Exclusion("unavailable", f"{technique.name}:{name}", reason))
    chosen: list[Option | None] = [None] if allowed is None or NONE_OPTION in allowed else []
    chosen += [o for o in offered.options if _allowed(o.name, allowed)]
    return chosen


def _conflict(a: Option, b: Option) -> bool:
    def hits(x: Option, y: Option) -> bool:
        return f"{y.technique}:{y.name}" in x.conflicts_with or f"{y.technique}:*" in x.conflicts_with

    return hits(a, b) or hits(b, a)


def _base_score(scenario: Scenario, model: ModelSpec, catalog: Catalog) -> float | None:
    if scenario.quality.base_score is not None:
        return scenario.quality.base_score
    row = catalog.quality_of(model.slug, scenario.quality.metric)
    return row.score if row else None


def build_variants(
    scenario: Scenario, catalog: Catalog, registry: Registry | None = None
) -> tuple[ModelSpec, float | None, list[Variant], dict[int, list[Option]], list[Exclusion]]:
    """Steps 1–2 of the module docstring."""
    registry = registry or default_registry()
    _check_technique_names(scenario, registry)
    model = resolve_model(scenario.model.base, catalog, "model.base")
    score = _base_score(scenario, model, catalog)
    exclusions: list[Exclusion] = []
    techniques = registry.ordered()
    per_technique: list[list[Option | None]] = []
    for technique in techniques:
        ctx = TechniqueContext(scenario=scenario, catalog=catalog, base_model=model,
                               settings=_settings_for(technique, scenario))  # type: ignore[arg-type]
        try:
            chosen = _choose_options(technique, ctx, scenario.techniques.get(technique.name), exclusions)
        except InputError:  # bad input the plug-in found (unknown slug, missing setting): names its field
            raise
        except Exception as exc:  # noqa: BLE001  (a plug-in's failure names the plug-in)
            raise ScenarioError(f"plug-in failed: {type(exc).__name__}: {exc}", f"techniques.{technique.name}") from None
        per_technique.append(chosen)
    combinations = 1
    for chosen in per_technique:
        combinations *= max(1, len(chosen))
    if combinations > catalog.defaults.max_variant_combinations:
        widest = sorted(((len(c), t.name) for c, t in zip(per_technique, techniques, strict=True)), reverse=True)[:2]
        raise ScenarioError(
            f"{combinations:,} combinations of technique options exceed the planner's limit of "
            f"{catalog.defaults.max_variant_combinations:,}; allow fewer options of "
            + " and ".join(f"{name} ({n})" for n, name in widest), "techniques")
    base = base_profile(model, BASE_PRECISION, None, catalog).model_copy(update={"quality_score": score})
    variants: list[Variant] = []
    variant_options: dict[int, list[Option]] = {}
    seen: dict[tuple[str, ...], str] = {}
    for combo in itertools.product(*per_technique):
        opts = [o for o in combo if o is not None]
        label = " + ".join(o.key for o in opts) or "baseline"
        clash = next(((a, b) for a, b in itertools.combinations(opts, 2) if _conflict(a, b)), None)
        if clash:
            exclusions.append(Exclusion("conflict", label, f"{clash[0].key} conflicts with {clash[1].key}"))
            continue
        profiles = _apply_options(scenario, base, opts)
        if isinstance(profiles, str):
            exclusions.append(Exclusion("incompatible", label, profiles))
            continue
        fingerprint = tuple(p.model_dump_json(exclude={"trace", "provenance"}) for p in profiles.values())
        if fingerprint in seen:
            exclusions.append(Exclusion("duplicate", label, f"same served profile as {seen[fingerprint]}"))
            continue
        seen[fingerprint] = label
        options = {t.name: NONE_OPTION for t in techniques}
        options.update({o.technique: o.name for o in opts})
        variant = Variant(index=len(variants), options=options, profiles=profiles)
        variants.append(variant)
        variant_options[variant.index] = opts
    return model, score, variants, variant_options, exclusions


def _apply_options(scenario: Scenario, base: ServingProfile, opts: Sequence[Option]) -> dict[str, ServingProfile] | str:
    """Each class's profile under ``opts`` (in order), or why the combination cannot be served."""
    profiles: dict[str, ServingProfile] = {}
    for w in scenario.workload:
        profile = base
        for option in opts:
            try:
                profile = option.apply(profile, w)
            except NotApplicable as exc:
                return f"{option.key}: {exc}"
            except Exception as exc:  # noqa: BLE001
                raise ScenarioError(f"option {option.key} failed on class {w.name}: {type(exc).__name__}: {exc}",
                                    f"techniques.{option.technique}") from None
            profile = _checked(profile, option, w.name)
        profiles[w.name] = profile
    return profiles


def _checked(profile: object, option: Option, workload: str) -> ServingProfile:
    """What ``option.apply`` returned, re-validated: ``ServingProfile.changed`` copies without checking
    the field bounds, so a plug-in could hand back ``served_query_fraction = 7`` or a NaN and see it
    planned; such a profile, or anything that is not a profile, is exit 2 naming the technique."""
    path = f"techniques.{option.technique}"
    if not isinstance(profile, ServingProfile):
        raise ScenarioError(f"option {option.key} returned {type(profile).__name__} on class {workload}, "
                            "not a ServingProfile", path)
    try:
        return ServingProfile.model_validate(dict(profile))  # top-level fields; nested catalog rows as they are
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ScenarioError(f"option {option.key} returned an invalid profile on class {workload}: {field}: "
                            f"{err['msg']}", path) from None
