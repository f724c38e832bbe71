"""Verifying credentials and presentations for VC-API (``/credentials/verify``,
``/presentations/verify``): ``vc.credentials`` / ``vc.presentations`` with the node's resolver,
status checker and clock, plus the node's own rules for challenges and proof purposes.

Verification runs on the server's event loop; its CPU-heavy steps (structural checks, each
proof's canonicalization and signature check, status lists' proofs too) go to ``offload``
(``node.offload``), its I/O (DID resolution, status-list fetches) stays on the loop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping, Sequence

from node.challenges import Challenges
from node.offload import Offload, shared_offload
from vc.credentials import Reporter, verify_credential
from vc.errors import InvalidChallengeError, MismatchedProofPurposeError, ProblemError
from vc.presentations import verify_presentation
from vc.results import Check, VerificationResult

JsonObject = dict[str, Any]
CheckStatus = Callable[[JsonObject], Awaitable[list[Any]]]

# The checks that show the holder signed this very challenge; only then is it spent.
_HOLDER_PROOF_CHECKS = frozenset({"proof", "binding", "challenge", "domain"})


class Verification:
    def __init__(
        self,
        *,
        resolver: Any,
        loader: Any,
        clock: Callable[[], datetime],
        challenges: Challenges,
        check_status: CheckStatus | None = None,
        accept_caller_challenges: bool = True,
        require_challenge: bool = True,
        reporters: Sequence[Reporter] = (),
        offload: Offload[Any] | None = None,
    ) -> None:
        self.resolver = resolver
        self.loader = loader
        self.clock = clock
        self.challenges = challenges
        self.check_status = check_status
        self.accept_caller_challenges = accept_caller_challenges
        self.require_challenge = require_challenge
        self.reporters = tuple(reporters)  # profile reports added to each credential's result (vc.edu.REPORTERS)
        self.offload = offload or shared_offload()

    async def verify_credential(self, vc: Any, options: Mapping[str, Any] | None = None) -> VerificationResult:
        """VC-API /credentials/verify: proof, data model, validity and status; never raises on bad input."""
        options = dict(options or {})
        challenge, domain = options.get("challenge"), options.get("domain")
        result = await verify_credential(
            vc,
            resolver=self.resolver,
            loader=self.loader,
            now=self.clock(),
            check_status=self.check_status,
            challenge=challenge if isinstance(challenge, str) else None,
            domain=domain if isinstance(domain, str) else None,
            reporters=self.reporters,
            offload=self.offload,
        )
        # An issuer's proof on a credential is an assertion (VC DM 2.0 §4.12).
        _check_expected_purpose(result, options, "assertionMethod", "a credential's proof is verified for assertionMethod, the issuer's assertion")
        return result

    async def verify_presentation(self, vp: Any, options: Mapping[str, Any] | None = None) -> VerificationResult:
        """VC-API /presentations/verify: the holder's proof, its challenge and domain, and
        every embedded credential.

        Challenges (VC-API: the caller passes the challenge it expects in ``options.challenge``):

        - one this node handed out (``Challenges.create``) must be live and unused, and is
          consumed once the presentation's own proof (signature, binding, challenge, domain)
          has verified, so a forged presentation cannot burn a holder's live challenge;
          consumption is atomic, so a replay racing the first use fails;
        - one the node did not hand out is the caller's expected value: the proof must carry
          it, and the caller vouches for its freshness. Refused instead when
          ``accept_caller_challenges`` is off, or when ``options.checks`` names
          ``"challenge"`` (as Digital Bazaar's verifier reads it: check against this
          verifier's own challenges);
        - with no ``options.challenge``, a challenge in the proof that this node handed out is
          checked and consumed all the same (leaving the option out cannot replay it); any
          other is vouched for by nobody, so ``require_challenge`` refuses the presentation.
        """
        options = dict(options or {})
        challenge = options.get("challenge")
        domain = options.get("domain")
        checks_option = options.get("checks")
        node_only = not self.accept_caller_challenges or (isinstance(checks_option, list) and "challenge" in checks_option)
        problem: ProblemError | None = None
        consume = False
        from_proof = False  # the challenge is the proof's own: the caller sent no options.challenge
        if challenge is None:
            carried = [c for c in _proof_challenges(vp) if await self.challenges.state(c) is not None]
            if carried:
                challenge, from_proof = carried[0], True
            elif self.require_challenge:
                problem = InvalidChallengeError(
                    "options.challenge is required: pass the challenge the holder was asked to sign "
                    "(for instance one from POST /challenges)"
                )
        if isinstance(challenge, str) and problem is None:
            state = await self.challenges.state(challenge)
            if state == "live":
                consume = True
            elif state is not None:
                problem = _unusable_challenge(challenge if from_proof else None)
            elif node_only:
                problem = InvalidChallengeError(
                    "options.challenge was not issued by this node (POST /challenges); this node only "
                    "accepts its own challenges"
                    + (' because options.checks names "challenge"' if self.accept_caller_challenges else "")
                )
        elif challenge is not None and not isinstance(challenge, str):
            problem = InvalidChallengeError("options.challenge must be a string")
        result = await verify_presentation(
            vp,
            resolver=self.resolver,
            loader=self.loader,
            now=self.clock(),
            challenge=challenge if isinstance(challenge, str) else None,
            domain=domain if isinstance(domain, str) else None,
            check_status=self.check_status,
            reporters=self.reporters,
            offload=self.offload,
        )
        # A holder proves control with authentication (VC DM 2.0 §4.13); a caller expecting
        # another purpose is answered no, and its request burns no live challenge.
        purpose_ok = _check_expected_purpose(
            result, options, "authentication", "a presentation's proof is verified for authentication, the holder's proof of control"
        )
        holder_proved = all(c.ok for c in result.checks if c.name in _HOLDER_PROOF_CHECKS)
        if problem is None and consume and holder_proved and purpose_ok:
            if not await self.challenges.consume(challenge):
                problem = _unusable_challenge(challenge if from_proof else None)
        if problem is not None:
            _fail_challenge(result, problem)
        return result


    async def verify_proofless_presentation(self, vp: Any) -> VerificationResult:
        """VCALM ProoflessVerifyPresentationRequest (``{presentation}``): the presentation's data
        model and every credential it embeds. There is no holder proof, so the ``proof``,
        ``challenge`` and ``domain`` checks are recorded as skipped and ``verified`` is the
        credentials' verdict; ``require_challenge`` cannot apply (nothing could carry one), and
        no challenge is consumed. The route refuses a presentation that has a proof."""
        result = await verify_presentation(
            vp,
            resolver=self.resolver,
            loader=self.loader,
            now=self.clock(),
            challenge=None,
            domain=None,
            check_status=self.check_status,
            allow_unsigned=True,
            reporters=self.reporters,
            offload=self.offload,
        )
        skipped = "the proofless form ({presentation}) has no holder proof"
        proof = result.check("proof")
        if proof is not None and proof.outcome == "skipped":  # absent only when the bounds check refused it
            proof.message = f"{skipped}: only the embedded credentials are verified"
            result.add(Check("challenge", "skipped", f"{skipped} to carry a challenge"))
            result.add(Check("domain", "skipped", f"{skipped} to carry a domain"))
        return result


def _fail_challenge(result: VerificationResult, problem: ProblemError) -> None:
    """One ``challenge`` check, failed: the library's "the proof carries the expected challenge"
    is true of a replay as well, so the node's finding replaces a pass; a failure the library
    found itself stays first, with the node's finding added to its message."""
    earlier = [c for c in result.checks if c.name == "challenge"]
    result.checks = [c for c in result.checks if c.name != "challenge"]
    library_failed = next((c for c in earlier if not c.ok), None)
    if library_failed is not None:
        library_failed.message = f"{library_failed.message}; {problem.detail}" if library_failed.message else problem.detail
        result.add(library_failed)
    else:
        result.add(Check("challenge", "failed", problem.detail, problem.problem()))


def _check_expected_purpose(result: VerificationResult, options: Mapping[str, Any], verified_for: str, why: str) -> bool:
    """Data Integrity 1.0 §4.4 step 5: "If expectedProofPurpose was given, and it does not
    match proof.proofPurpose, an error MUST be raised." The proofs are verified for
    ``verified_for``; a caller expecting another purpose gets a failed check, not a pass."""
    purpose = options.get("expectedProofPurpose")
    if purpose is None or purpose == verified_for:
        return True
    problem = MismatchedProofPurposeError(f"options.expectedProofPurpose is {purpose!r}, but {why}")
    result.add(Check("proofPurpose", "failed", problem.detail, problem.problem()))
    return False


def _proof_challenges(vp: Any) -> list[str]:
    """The challenges a presentation's proofs carry (whatever their shape; verification judges that)."""
    proofs = vp.get("proof") if isinstance(vp, dict) else None
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return [p["challenge"] for p in proofs if isinstance(p, dict) and isinstance(p.get("challenge"), str)]


def _unusable_challenge(carried: str | None = None) -> InvalidChallengeError:
    """``carried``: the proof's own challenge, checked because no ``options.challenge`` was
    sent; the message names that one, not an option the caller never gave."""
    if carried is not None:
        return InvalidChallengeError(
            f"the proof's challenge {carried!r} was handed out by this node and has expired or was already used "
            "(no options.challenge was sent, so the proof's own challenge was checked)"
        )
    return InvalidChallengeError("options.challenge was not issued by this node, has expired, or was already used")
