"""The EU education profile on top of the W3C core: micro-credentials (Council Recommendation
2022/C 243/02, Annex I, as Open Badges 3.0), ELM accreditations and stacked credentials.

``model`` holds the Annex I model and its parsing, ``build`` writes a micro-credential,
``report`` reads one back at verification, ``accreditation`` and ``stacking`` are the ELM
accreditation credentials and credentials stacked from micro-credentials. The profile imports
the core (``vc.credentials``, ``vc.results``, ``vc.errors`` ...); the core never imports the
profile (import-linter holds it): it takes ``REPORTERS`` as an injected hook instead. See
docs/microcredential-profile.md, docs/accreditation-and-stacking.md and docs/CONTRACTS.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vc.edu.build import achievement_document, build_microcredential, hash_identity
from vc.edu.model import (
    ACHIEVEMENT_TYPE,
    CONTEXT,
    ELEMENTS,
    OPTIONAL_ELEMENTS,
    AchievementDefinition,
    Assessment,
    ElementProblem,
    EvidenceItem,
    Integration,
    IssuerProfile,
    Learner,
    LearningOutcome,
    ProfileError,
    QualityAssurance,
    achievement_problems,
    country_problem,
    issuer_problems,
    label,
    learner_problems,
    normalise_grade,
    parse_achievement,
    parse_datetime,
    parse_evidence,
    parse_learner,
)
from vc.edu.report import (
    ElementReport,
    ProfileReport,
    attach_report,
    is_microcredential,
    is_open_badge,
    profile_report,
    render_report,
)

if TYPE_CHECKING:
    from vc.credentials import Reporter

__all__ = [
    "ACHIEVEMENT_TYPE",
    "CONTEXT",
    "ELEMENTS",
    "OPTIONAL_ELEMENTS",
    "REPORTERS",
    "AchievementDefinition",
    "Assessment",
    "ElementProblem",
    "ElementReport",
    "EvidenceItem",
    "Integration",
    "IssuerProfile",
    "Learner",
    "LearningOutcome",
    "ProfileError",
    "ProfileReport",
    "QualityAssurance",
    "achievement_document",
    "achievement_problems",
    "attach_report",
    "build_microcredential",
    "country_problem",
    "hash_identity",
    "is_microcredential",
    "is_open_badge",
    "issuer_problems",
    "label",
    "learner_problems",
    "normalise_grade",
    "parse_achievement",
    "parse_datetime",
    "parse_evidence",
    "parse_learner",
    "profile_report",
    "render_report",
]

# What a verifier of this profile passes as ``reporters=`` to ``vc.credentials.verify_credential``
# and ``vc.presentations.verify_presentation``: the micro-credential report
# (``result.reports["microcredential"]``). Accreditation and stacks need the network and the
# node's trusted bodies, so the node adds those itself (``node.trust``).
REPORTERS: tuple[Reporter, ...] = (attach_report,)
