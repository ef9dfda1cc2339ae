"""Speculative decoding's physics, shared by the technique (:mod:`techniques.speculative`) and the
one-deployment estimate (:mod:`planner.physics.deployment`): expected tokens per target pass and
the profile of a deployment that drafts.
"""

from __future__ import annotations

from planner.catalog.schema import ModelSpec
from planner.errors import NotApplicable
from planner.physics.profile import ServingProfile

PAPER = "Leviathan, Kalman & Matias 2023 (arXiv 2211.17192)"
#: Input bound on γ: a typo guard, far past the few tokens engines draft in practice.
MAX_DRAFT_TOKENS = 16


def tokens_per_pass(acceptance_rate: float, draft_tokens: int) -> float:
    """Expected tokens one target pass yields, ``(1 − α^{γ+1}) / (1 − α)`` (Leviathan et al. eq. 1)."""
    return (1.0 - acceptance_rate ** (draft_tokens + 1)) / (1.0 - acceptance_rate)


def with_draft(profile: ServingProfile, draft: ModelSpec, draft_tokens: int, acceptance_rate: float, *,
               option: str, source: str) -> ServingProfile:
    """``profile`` decoded speculatively with ``draft``; :class:`NotApplicable` when the served model
    cannot use that draft (not smaller, or another tokenizer)."""
    served = profile.model
    if draft.params_total >= served.params_total:
        raise NotApplicable(f"the draft {draft.slug} ({draft.params_total / 1e9:.1f}B) is not smaller than the "
                            f"served model {served.slug} ({served.params_total / 1e9:.1f}B)")
    if draft.vocab_size != served.vocab_size:
        raise NotApplicable(f"the draft {draft.slug} has another tokenizer than {served.slug} "
                            f"(vocabulary {draft.vocab_size} vs {served.vocab_size})")
    out = profile.changed("speculative", option, draft.source, draft=draft)
    out = out.changed("speculative", option, source, acceptance_rate=acceptance_rate)
    return out.changed("speculative", option, f"tokens per pass (1 - α^(γ+1)) / (1 - α), {PAPER} eq. 1",
                       draft_tokens=draft_tokens)
