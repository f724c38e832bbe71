"""Structured verification results (VC Data Model 2.0 §7.1 "verification result").

A result holds one ``Check`` per thing that was checked (proof, binding, validity period,
status, ...) and the ``Problem`` entries of every failure. ``Checks.run`` is the one place
where a failing step's exception becomes a result entry; nothing else catches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from vc.errors import CryptographicSecurityError, Problem, problem_from_exception

log = logging.getLogger(__name__)

Outcome = Literal["passed", "failed", "unknown", "skipped"]


@dataclass
class Check:
    """One named check. ``unknown`` means the check could not be carried out (for
    instance a status list that could not be fetched): not a pass, not a proven fail."""

    name: str  # "proof", "binding", "validity", "status", "dataModel", "challenge", ...
    outcome: Outcome
    message: str = ""
    problem: Problem | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "outcome": self.outcome}
        if self.message:
            out["message"] = self.message
        if self.problem is not None:
            out["error"] = self.problem.to_json()
        if self.data:
            out.update(self.data)
        return out


@dataclass
class VerificationResult:
    """``verified`` is true only when every check passed (or was skipped on purpose)."""

    kind: Literal["credential", "presentation", "statusList"]
    document: dict[str, Any] | None = None
    checks: list[Check] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Results of the credentials inside a presentation, in order.
    credentials: list["VerificationResult"] = field(default_factory=list)
    # Extra reports attached by profiles (micro-credential elements, accreditation, stacking).
    reports: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks) and all(
            r.verified for r in self.credentials
        )

    @property
    def check_problems(self) -> list[Problem]:
        """One problem per failed check (the embedded credentials' after, prefixed with their
        index): what to count when failures are tallied, one entry each."""
        return self._problems(summary=False)

    @property
    def errors(self) -> list[Problem]:
        """One problem per failed check, so a caller reading only ``errors`` learns why; and,
        when a proof check failed, one CRYPTOGRAPHIC_SECURITY_ERROR after them, as the
        verification algorithm of VC Data Model 2.0 §7.1 adds to ``result.errors`` whenever
        the securing mechanism does not verify. The detailed Data Integrity problem stays."""
        return self._problems(summary=True)

    def _problems(self, *, summary: bool) -> list[Problem]:
        bad = [c for c in self.checks if not c.ok]
        errs = [c.problem if c.problem is not None else _outcome_problem(c) for c in bad]
        if summary and (proof_failed := [c for c in bad if c.name == "proof" and c.outcome == "failed"]):
            if not any(c.problem is not None and c.problem.code == CryptographicSecurityError.code for c in proof_failed):
                errs.append(_securing_problem(self.kind, proof_failed))
        for i, r in enumerate(self.credentials):
            for p in r._problems(summary=summary):
                errs.append(Problem(p.code, p.type, p.title, f"credential {i}: {p.detail}", p.http_status, p.extra))
        return errs

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def to_json(self, *, include_document: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "kind": self.kind,
            "checks": [c.to_json() for c in self.checks],
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }
        if self.credentials:
            out["credentialResults"] = [r.to_json(include_document=include_document) for r in self.credentials]
        if self.reports:
            out.update(self.reports)
        if include_document and self.document is not None:
            out["document"] = self.document
        return out


def _securing_problem(kind: str, failed_proofs: list[Check]) -> Problem:
    """VC Data Model 2.0 §7.1: "If result.status is set to false, add a
    CRYPTOGRAPHIC_SECURITY_ERROR to result.errors" (§7.2 defines the type). Only for a proof
    that failed: one whose check is ``unknown`` (a DID document that could not be fetched)
    detected no tampering."""
    codes = sorted({c.problem.code for c in failed_proofs if c.problem is not None})
    which = f"{len(failed_proofs)} of its proofs do" if len(failed_proofs) > 1 else "its proof does"
    return CryptographicSecurityError(
        f"the {kind} is not secured: {which} not verify ({', '.join(codes) or 'failed'}; see the proof check)"
    ).problem()


def _outcome_problem(check: Check) -> Problem:
    """A check that ran and said no without raising (a revoked credential is a status the list
    reports, not a processing error, so the specifications define no code for it)."""
    code = "".join("_" + ch if ch.isupper() else ch.upper() for ch in check.name) + "_CHECK_FAILED"
    return Problem(
        code,
        "urn:vcnode:problem:" + code,
        f"The {check.name} check failed",
        check.message or f"the {check.name} check failed",
        400,
        dict(check.data),
    )


def failed(name: str, exc: BaseException) -> Check:
    """Turn an exception raised by a check into its result entry (the one conversion)."""
    problem = problem_from_exception(exc)
    if problem is None:
        log.exception("internal error during %s check", name, exc_info=exc)
        problem = Problem(
            "INTERNAL_ERROR",
            # The node's own type: VC Data Model 2.0 §7.2 defines no internal error, so none
            # is put in its namespace (the other types of the node's own are urn:vcnode:problem:).
            "urn:vcnode:problem:INTERNAL_ERROR",
            "Internal error",
            f"the {name} check failed with an internal error ({type(exc).__name__}); this is a bug in the node",
            500,
        )
    # An exception may state its outcome itself (a RANGE_ERROR for an expired credential is
    # established, not "could not be established"); otherwise the code decides.
    own = getattr(exc, "outcome", None)
    outcome: Outcome = own if own in ("failed", "unknown") else (
        "unknown" if problem.code in _UNKNOWN_CODES else "failed"
    )
    return Check(name, outcome, problem.detail, problem)


# Failures that mean "could not be established", not "established to be bad".
_UNKNOWN_CODES = frozenset(
    {"STATUS_RETRIEVAL_ERROR", "STATUS_VERIFICATION_ERROR", "STATUS_LIST_LENGTH_ERROR", "RANGE_ERROR", "INTERNAL_ERROR"}
)


class Checks:
    """Run named checks into a result: ``async with checks.run("proof"): ...``.

    Usage::

        result = VerificationResult("credential", vc)
        checks = Checks(result)
        with checks.run("dataModel"):
            check_data_model(vc, now=now)
    On normal exit the check is recorded as passed (unless the body recorded something
    itself via ``checks.set``); on an exception it becomes a failed/unknown entry.
    """

    def __init__(self, result: VerificationResult) -> None:
        self.result = result

    def run(self, name: str, message: str = "") -> "_CheckContext":
        return _CheckContext(self.result, name, message)


class _CheckContext:
    def __init__(self, result: VerificationResult, name: str, message: str) -> None:
        self.result, self.name, self.message = result, name, message
        self.data: dict[str, Any] = {}
        self.outcome: Outcome | None = None

    def set(self, outcome: Outcome, message: str = "", **data: Any) -> None:
        self.outcome = outcome
        if message:
            self.message = message
        self.data.update(data)

    def __enter__(self) -> "_CheckContext":
        return self

    async def __aenter__(self) -> "_CheckContext":
        return self

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            self.result.add(Check(self.name, self.outcome or "passed", self.message, None, self.data))
            return False
        if isinstance(exc, (KeyboardInterrupt, SystemExit)) or not isinstance(exc, Exception):
            return False
        check = failed(self.name, exc)
        check.data.update(self.data)
        self.result.add(check)
        return True

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> bool:
        return self.__exit__(et, exc, tb)
