"""Trust beyond one credential: trusted accreditation bodies, held accreditations, the
accreditation assessment of an issuer, and the stack check of a presentation.

Verifier side: the node is configured with the accreditation bodies it trusts (their DIDs,
``trusted_bodies`` table, ``vcnode trust add``). To assess an issuer it fetches the
accreditation credentials the issuer publishes next to its did:web document
(``…/accreditations.json`` beside ``…/did.json``), verifies each one (proof, validity period,
status), reads it (``vc.edu.accreditation``), checks its own dates and scope against the credential,
and, when its issuer is not trusted itself, repeats this one level up, to at most
``trust_max_depth`` links. The report says accredited (by whom, chain, scope, period, not
revoked), not-accredited, or unknown, and which link failed why.

Holder side: an institution stores the accreditation credentials it received
(``held_accreditations``) and publishes them (``node.routes.trust``).

``Trust`` is the node's capability (both sides, over its store); ``AccreditationVerifier``,
``add_trust_reports`` and ``fetch_published`` work without a node (``vcnode verify --trust``).
See docs/accreditation-and-stacking.md.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from did.cache import TTLCache
from did.errors import NOT_FOUND_STATUSES, DIDError
from did.syntax import parse_did
from did.web import DIDWebResolver
from node.errors import AccreditationRefusedError, InvalidRequestError, UnknownCredentialError, UnknownIssuerError, UnknownTrustedBodyError
from node.issuers import Issuers
from node.store import Database, utcnow_iso
from node.store import trust as table
from vc.edu import is_microcredential, stacking
from vc.edu.accreditation import (
    Accreditation,
    AccreditationError,
    CredentialFacts,
    accreditations_document,
    accreditations_in,
    credential_facts,
    is_accreditation,
    parse_accreditation,
    period_problem,
    scope_findings,
)
from vc.errors import Problem
from vc.results import Check, VerificationResult

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

ACCREDITED, NOT_ACCREDITED, UNKNOWN, NOT_ASSESSED = "accredited", "not-accredited", "unknown", "not-assessed"
PROBLEM_BASE = "urn:vcnode:problem:"

# --- trusted bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedBody:
    did: str
    label: str | None
    added: str

    def to_json(self) -> JsonObject:
        return {"did": self.did, "label": self.label, "added": self.added}


def check_did(did: Any) -> str:
    if not isinstance(did, str):
        raise InvalidRequestError("a trusted body is named by its DID (a string)")
    try:
        parsed = parse_did(did)
    except DIDError as e:
        raise InvalidRequestError(f"{did!r} is not a DID: {e.detail}") from e
    if str(parsed) != did:
        raise InvalidRequestError(f"{did!r} is not a bare DID")
    return did


def accreditations_url(document_url: str) -> str:
    """``…/did.json`` → ``…/accreditations.json``: published next to the DID document."""
    if not document_url.endswith("/did.json"):
        raise ValueError(f"{document_url} is not a did:web document URL")
    return document_url[: -len("did.json")] + "accreditations.json"


# --- the assessment ------------------------------------------------------------------------------


@dataclass
class Link:
    """One accreditation credential examined: ``by`` accredits ``organisation``."""

    number: int  # 1 = the link accrediting the credential's issuer, 2 = the one above, ...
    organisation: str
    by: str | None = None
    credential_id: str | None = None
    accreditation: Accreditation | None = None
    outcome: str = "passed"  # passed | failed | unknown
    reasons: list[str] = field(default_factory=list)

    def fail(self, outcome: str, reason: str) -> None:
        if outcome == "failed" or self.outcome == "passed":
            self.outcome = outcome
        self.reasons.append(reason)

    @property
    def name(self) -> str:
        who = f"{self.by} accrediting {self.organisation}" if self.by else f"accreditation of {self.organisation}"
        return f"link {self.number} ({who}" + (f", credential {self.credential_id})" if self.credential_id else ")")

    def to_json(self) -> JsonObject:
        out: JsonObject = {"link": self.number, "organisation": self.organisation, "outcome": self.outcome}
        if self.by:
            out["accreditedBy"] = self.by
        if self.credential_id:
            out["credentialId"] = self.credential_id
        if self.accreditation is not None:
            a = self.accreditation.to_json()
            out["kind"] = a["kind"]
            out["scope"] = a["scope"]
            out["validPeriod"] = {k: a[k] for k in ("validFrom", "validUntil", "dateIssued", "reviewDate", "expiryDate") if k in a}
            if "decision" in a:
                out["decision"] = a["decision"]
            if self.outcome == "passed":
                out["revoked"] = False
        if self.reasons:
            out["reasons"] = list(self.reasons)
        return out


@dataclass
class AccreditationReport:
    status: str
    issuer: str | None
    reason: str = ""
    trusted_body: str | None = None
    chain: list[Link] = field(default_factory=list)
    failed_links: list[Link] = field(default_factory=list)
    facts: CredentialFacts | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"status": self.status, "issuer": self.issuer, "reason": self.reason}
        if self.status == ACCREDITED:
            out["accreditedBy"] = self.chain[0].by if self.chain else self.issuer
            out["trustedBody"] = self.trusted_body
            if self.chain and self.chain[0].accreditation is not None:
                a = self.chain[0].accreditation.to_json()
                out["scope"] = a["scope"]
                out["validPeriod"] = self.chain[0].to_json().get("validPeriod", {})
            out["revoked"] = False
        out["chain"] = [link.to_json() for link in self.chain]
        if self.failed_links:
            out["failedLinks"] = [link.to_json() for link in self.failed_links]
        if self.facts is not None:
            out["credentialFacts"] = self.facts.to_json()
        return out


Verify = Callable[[JsonObject], Awaitable[VerificationResult]]
FetchDocument = Callable[[str], Awaitable[Any]]  # DID -> published document; raises on failure


class NotPublished(Exception):
    """The organisation publishes no accreditations document (established, not a network failure)."""


class AccreditationVerifier:
    """Assess whether a credential's issuer is accredited by a trusted body, through at most
    ``max_depth`` accreditation links. Never raises: everything ends up in the report."""

    def __init__(self, *, trusted: Iterable[str], verify: Verify, fetch: FetchDocument, now: Any, max_depth: int = 3) -> None:
        self.trusted = frozenset(trusted)
        self.verify = verify
        self.fetch = fetch
        self.now = now
        self.max_depth = max_depth
        self._documents: dict[str, Any] = {}  # one fetch per organisation per assessment run
        self._verified: dict[str, VerificationResult] = {}

    async def assess(self, credential: Mapping[str, Any]) -> AccreditationReport:
        issuer = credential.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        facts = credential_facts(credential)
        if not isinstance(issuer, str):
            return AccreditationReport(UNKNOWN, None, "the credential has no issuer id", facts=facts)
        if not self.trusted:
            return AccreditationReport(
                NOT_ASSESSED, issuer, "this verifier trusts no accreditation body (vcnode trust add DID)", facts=facts
            )
        if issuer in self.trusted:
            return AccreditationReport(
                ACCREDITED, issuer, "the issuer is itself a trusted accreditation body", trusted_body=issuer, facts=facts
            )
        failed: list[Link] = []
        chain = await self._search(issuer, 1, facts, frozenset({issuer}), failed)
        report = AccreditationReport(NOT_ACCREDITED, issuer, facts=facts, failed_links=failed)
        if chain is not None:
            report.status, report.chain = ACCREDITED, chain
            report.trusted_body = chain[-1].by
            names = " → ".join([chain[-1].by or "?"] + [link.organisation for link in reversed(chain)])
            report.reason = f"accredited through {len(chain)} link(s): {names}"
            report.failed_links = []
            return report
        if any(link.outcome == "unknown" for link in failed):
            report.status = UNKNOWN
        report.reason = "; ".join(f"{link.name}: {', '.join(link.reasons)}" for link in failed) or "no accreditation found"
        return report

    async def _document(self, organisation: str) -> Any:
        if organisation not in self._documents:
            try:
                self._documents[organisation] = ("ok", await self.fetch(organisation))
            except Exception as e:  # kept per organisation: the next link asking gets the same answer
                self._documents[organisation] = ("error", e)
        kind, value = self._documents[organisation]
        if kind == "error":
            raise value
        return value

    async def _search(
        self, organisation: str, number: int, facts: CredentialFacts, seen: frozenset[str], failed: list[Link]
    ) -> list[Link] | None:
        """A passing chain from ``organisation`` up to a trusted body (link ``number`` first),
        or None, with every failed link appended to ``failed``."""
        if number > self.max_depth:
            link = Link(number, organisation)
            link.fail("failed", f"no trusted body within {self.max_depth} accreditation link(s)")
            failed.append(link)
            return None
        try:
            document = await self._document(organisation)
        except NotPublished as e:
            link = Link(number, organisation)
            link.fail("failed", str(e))
            failed.append(link)
            return None
        except Exception as e:
            link = Link(number, organisation)
            link.fail("unknown", f"its accreditations could not be fetched: {getattr(e, 'detail', None) or e}")
            failed.append(link)
            return None
        candidates = [c for c in accreditations_in(document) if isinstance(c, Mapping)]
        if not candidates:
            link = Link(number, organisation)
            link.fail("failed", "it publishes no accreditation credential")
            failed.append(link)
            return None
        for credential in candidates:
            link = await self._check_link(credential, organisation, number, facts)
            if link.outcome != "passed":
                failed.append(link)
                continue
            by = link.by or ""
            if by in self.trusted:
                return [link]
            if by in seen:
                link.fail("failed", f"{by} appears twice in the chain (a cycle)")
                failed.append(link)
                continue
            upper = await self._search(by, number + 1, facts, seen | {by}, failed)
            if upper is not None:
                return [link, *upper]
        return None

    async def _check_link(self, credential: Mapping[str, Any], organisation: str, number: int, facts: CredentialFacts) -> Link:
        link = Link(number, organisation, credential_id=credential.get("id") if isinstance(credential.get("id"), str) else None)
        if not is_accreditation(credential):
            link.fail("failed", "not an accreditation credential")
            return link
        try:
            acc = parse_accreditation(credential)
        except AccreditationError as e:
            link.fail("failed", f"malformed: {e.detail}")
            return link
        link.by, link.accreditation = acc.accrediting_agent, acc
        if acc.organisation != organisation:
            link.fail("failed", f"it accredits {acc.organisation}, not {organisation}")
            return link
        needed = "attest" if number == 1 else "accredit"
        if acc.kind != needed:
            link.fail(
                "failed",
                "an accreditation to issue credentials (VerifiableAccreditationToAttest) is needed here"
                if needed == "attest"
                else "the accredited body may issue credentials but not accredit others (needs VerifiableAccreditationToAccredit)",
            )
        key = stacking.digest_or_none(credential)  # None: JCS cannot represent it, nor remember it by digest
        result = self._verified.get(key) if key is not None else None
        if result is None:  # a stack's parts share their issuer's links: verify each link once
            result = await self.verify(dict(credential))
            if key is not None:
                self._verified[key] = result
        for check in result.checks:
            if not check.ok:
                label = check.name
                if check.name == "status" and check.outcome == "failed":
                    label = "suspended" if "suspended" in check.message else "revoked"
                link.fail("unknown" if check.outcome == "unknown" else "failed", f"{label}: {check.message}")
        try:
            problem = period_problem(acc, self.now)
        except AccreditationError as e:
            problem = f"malformed date: {e.detail}"
        if problem:
            link.fail("failed", problem)
        for finding in scope_findings(acc.scope, facts):
            link.fail(finding.outcome, f"scope ({finding.dimension}): {finding.message}")
        return link


# --- the node's capability ------------------------------------------------------------------------

PublishedCache = TTLCache[Any]


class Trust:
    """Both sides of accreditation over the node's store: the bodies this verifier trusts, the
    accreditations this node's issuers hold and publish, and the assessment of a verification
    result (``report``)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        issuers: Issuers,
        verify: Verify,
        http: Any = None,
        max_depth: int = 3,
        max_staleness_seconds: float = 300,
        cache_entries: int = 256,
        observe_cache: Callable[[bool], None] | None = None,
        refresh_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.clock = clock
        # The trusted bodies' DIDs, as last read, and when (``monotonic``): every verification
        # needs them (issue 13: no store query on a verification that needs none). A change
        # made through this object is seen at once; one made by another process (``vcnode
        # trust add``, another worker) within ``refresh_seconds``, the bound the node's
        # issuers keep for key changes (``issuer_refresh_ms``).
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._trusted: tuple[float, frozenset[str]] | None = None
        self.issuers = issuers
        self.verify = verify
        self.http = http  # did.http.GuardedHTTP; None: other organisations' lists cannot be fetched
        self.max_depth = max_depth
        # Fetched accreditations documents, per URL. Without it every verification fetched the
        # issuer's list again. An entry lives as long as the response's Cache-Control: max-age
        # allows, never longer than max_staleness_seconds (the verifier's bound on any fetched
        # list's age), and on this capability's clock. Only documents that hold an
        # accreditation are kept, and never verdicts: each link is still verified, status
        # included, on every assessment, so a withdrawn accreditation shows at once however
        # long its list is cached.
        self.published_cache: PublishedCache = TTLCache(
            lambda: self.clock(),
            max_entries=cache_entries,
            default_ttl=max_staleness_seconds,
            max_ttl=max_staleness_seconds,
            observe=observe_cache,
        )

    # --- trusted bodies (verifier side) ----------------------------------------------------------

    async def add_trusted_body(self, did: str, *, label: str | None = None) -> TrustedBody:
        """Trust ``did`` as a root of accreditation chains (idempotent; a new label replaces the old)."""
        check_did(did)
        async with self.db.transaction() as tx:
            await table.add_body(tx, did, label, utcnow_iso(self.clock()))
            row = await table.body(tx, did)
        self._trusted = None
        return TrustedBody(row["did"], row["label"], row["added"])

    async def remove_trusted_body(self, did: str) -> None:
        async with self.db.transaction() as tx:
            if not await table.remove_body(tx, did):
                raise UnknownTrustedBodyError(f"{did!r} is not a trusted body of this node")
        self._trusted = None

    async def trusted_bodies(self) -> list[TrustedBody]:
        async with self.db.read() as tx:
            rows = await table.bodies(tx)
        return [TrustedBody(r["did"], r["label"], r["added"]) for r in rows]

    async def trusted_dids(self) -> frozenset[str]:
        """The trusted bodies' DIDs, read from the store at most every ``refresh_seconds``."""
        kept, now = self._trusted, self.monotonic()
        if kept is not None and now - kept[0] < self.refresh_seconds:
            return kept[1]
        dids = frozenset(b.did for b in await self.trusted_bodies())
        self._trusted = (now, dids)
        return dids

    # --- held accreditations (holder side) ------------------------------------------------------

    async def store_accreditation(self, issuer_name: str, credential: Any) -> Accreditation:
        """Keep an accreditation credential issued to ``issuer_name`` so it is published. It must be
        about one of the issuer's DIDs and verify now (proof, period, status): the node publishes
        nothing a verifier would reject."""
        issuer = await self.issuers.get(issuer_name)
        try:
            acc = parse_accreditation(credential)
        except AccreditationError as e:
            raise AccreditationRefusedError(e.detail) from e
        if acc.organisation not in issuer.dids:
            raise AccreditationRefusedError(
                f"the accreditation is about {acc.organisation}, not issuer {issuer_name!r} ({', '.join(issuer.dids)})"
            )
        if acc.credential_id is None:
            raise AccreditationRefusedError("the accreditation credential has no id")
        result = await self.verify(credential)
        if not result.verified:
            bad = "; ".join(f"{c.name}: {c.message}" for c in result.checks if not c.ok)
            raise AccreditationRefusedError(f"the accreditation credential does not verify ({bad})")
        async with self.db.transaction() as tx:
            await table.keep_accreditation(
                tx,
                issuer=issuer_name,
                credential_id=acc.credential_id,
                accrediting_agent=acc.accrediting_agent,
                stored=utcnow_iso(self.clock()),
                body=json.dumps(credential),
            )
        return acc

    async def held_accreditations(self, issuer_name: str) -> list[JsonObject]:
        await self.issuers.get(issuer_name)  # 404 for an unknown issuer
        async with self.db.read() as tx:
            bodies = await table.held(tx, issuer_name)
        return [json.loads(b) for b in bodies]

    async def remove_accreditation(self, issuer_name: str, credential_id: str) -> None:
        """Stop publishing an accreditation the issuer holds (404 for an unknown issuer or id)."""
        await self.issuers.get(issuer_name)
        async with self.db.transaction() as tx:
            if not await table.drop_accreditation(tx, issuer_name, credential_id):
                raise UnknownCredentialError(f"issuer {issuer_name!r} holds no accreditation {credential_id!r}")

    async def published_document(self, issuer_name: str) -> JsonObject:
        issuer = await self.issuers.get(issuer_name)
        return accreditations_document(issuer.did, await self.held_accreditations(issuer_name))

    # --- assessing ------------------------------------------------------------------------------

    async def fetch_for(self, organisation: str) -> Any:
        """This node's own issuers from the store (no request to itself), the rest over HTTP."""
        own = await self.issuers.for_did(organisation)
        if own is not None:
            return await self.published_document(own.name)
        return await fetch_published(self.http, organisation, self.published_cache)

    async def verifier(self) -> AccreditationVerifier:
        """An assessment run: this node's trusted bodies, verifier and fetcher, as of now."""
        return AccreditationVerifier(
            trusted=await self.trusted_dids(),
            verify=self.verify,
            fetch=self.fetch_for,
            now=self.clock(),
            max_depth=self.max_depth,
        )

    async def report(self, result: VerificationResult) -> None:
        """``add_trust_reports`` with this node's trusted bodies, verifier and fetcher."""
        try:
            verifier = await self.verifier()
        except Exception:  # the verification result must still be answered
            log.exception("could not set up the accreditation verifier")
            return
        await add_trust_reports(verifier, result)


async def fetch_published(http: Any, organisation: str, cache: PublishedCache | None = None) -> Any:
    """The accreditations document published beside ``organisation``'s did:web document, over
    the guarded HTTP client (plain HTTP only for hosts it allows). ``NotPublished`` on a 404.
    With ``cache``, a document fetched earlier is reused while its entry lives (failures are
    not kept: the next assessment asks again)."""
    from did.errors import FetchError

    if not organisation.startswith("did:web:"):
        method = organisation.split(":")[1] if organisation.count(":") >= 2 else organisation
        raise LookupError(f"a did:{method} names no place where accreditations are published; only did:web issuers can be assessed")
    if http is None:
        raise LookupError("the network is off here, so published accreditations cannot be fetched")
    url = accreditations_url(DIDWebResolver(http).document_url(organisation))
    if cache is not None:
        kept = cache.get(url)
        if kept is not None:
            return kept
    try:
        fetched = await http.get_json(url)
    except FetchError as e:
        if e.reason == "http-status" and e.status in NOT_FOUND_STATUSES:  # 410 Gone too, as for DIDs
            raise NotPublished(f"it publishes no accreditations ({url} is not found)") from e
        raise
    # An empty list is not kept: an institution accredited a moment ago must not stay
    # "not accredited" for a whole max-age (a removal, by contrast, may take that long to show).
    if cache is not None and accreditations_in(fetched.data):
        cache.put(url, fetched.data, fetched.max_age)
    return fetched.data

def _problem(code: str, detail: str) -> Problem:
    return Problem(code, PROBLEM_BASE + code, "The stacked credential does not hold together", detail, 422)


async def add_trust_reports(verifier: AccreditationVerifier, result: VerificationResult) -> None:
    """Add the accreditation report(s) and, for a presentation, the stack check(s) to ``result``.

    A credential gets ``reports["accreditation"]`` when the node trusts some body (and, as
    "not-assessed", for a micro-credential when it trusts none). The accreditation of a single
    credential is information for the verifier app; a stack is different: its parts count
    only if each verifies and its issuer is accredited, so the presentation gets a ``stack``
    check that fails (or stays unknown) otherwise."""
    results = result.credentials if result.kind == "presentation" else [result]
    for r in results:
        vc = r.document
        if not isinstance(vc, dict):
            continue
        if verifier.trusted or is_microcredential(vc) or stacking.is_stacked(vc):
            try:
                r.reports["accreditation"] = (await verifier.assess(vc)).to_json()
            except Exception as e:  # assess reports its failures; this is a bug, still not a 500
                log.exception("accreditation assessment failed")
                r.reports["accreditation"] = AccreditationReport(UNKNOWN, None, f"internal error: {type(e).__name__}").to_json()
        if result.kind == "credential" and stacking.is_stacked(vc):
            r.reports["stack"] = {
                "verified": None,
                "note": "a stacked credential is checked against its parts in a presentation that holds them all "
                "(POST /presentations/verify)",
            }
    if result.kind != "presentation":
        return
    by_identity = {id(r.document): r for r in result.credentials if isinstance(r.document, dict)}
    presented = [r.document for r in result.credentials if isinstance(r.document, dict)]
    stack_reports = []
    for r in result.credentials:
        vc = r.document
        if not stacking.is_stacked(vc):
            continue
        report = stacking.check_stack(vc, presented)
        for entry in report.counted:
            part = next((p for p in presented if p.get("id") == entry.id and stacking.digest_or_none(p) == entry.digest_multibase), None)
            pr = by_identity.get(id(part)) if part is not None else None
            if pr is None:
                continue
            bad = [c for c in pr.checks if not c.ok]
            if bad:
                code = stacking.PART_UNKNOWN if all(c.outcome == "unknown" for c in bad) else stacking.PART_FAILED
                report.add(code, f"part {entry.id} does not verify: " + "; ".join(f"{c.name} {c.outcome}: {c.message}" for c in bad), entry.id)
            acc = pr.reports.get("accreditation")
            if verifier.trusted and acc is not None and acc["status"] != ACCREDITED:
                code = stacking.PART_UNKNOWN if acc["status"] == UNKNOWN else stacking.PART_FAILED
                report.add(code, f"part {entry.id}: issuer {acc['issuer']} is {acc['status']} ({acc['reason']})", entry.id)
        out = report.to_json()
        stack_reports.append(out)
        if report.ok:
            result.add(Check("stack", "passed", report.summary(), None, {"stack": report.stack_id, "sumEcts": out["sumEcts"], "ectsByEqfLevel": out["ectsByEqfLevel"]}))
        else:
            first = next((p for p in report.problems if p.code != stacking.PART_UNKNOWN), report.problems[0])
            outcome = "unknown" if report.undecided else "failed"
            result.add(Check("stack", outcome, report.summary(), _problem(first.code, report.summary()), {"stack": report.stack_id, "problems": out["problems"]}))
    if stack_reports:
        result.reports["stacks"] = stack_reports


# --- achievements this node defines --------------------------------------------------------------
#
# A credential names its achievement by URL. One under this node's base URL is an achievement one
# of the node's issuers defines, and only that issuer awards it; but anyone can copy the
# achievement into a credential signed with their own key, and the library, checking only that
# the signature is the named issuer's, calls it verified. This is the one place that knows the
# rule: the VC-API verify routes and the verifier page both run it (``check_achievement_issuers``).

ACHIEVEMENT_ISSUER_MISMATCH = "ACHIEVEMENT_ISSUER_MISMATCH"


@dataclass(frozen=True)
class HostedAchievement:
    """An achievement one of this node's issuers defines (its URL is on this node), and every
    DID that issuer signs or signed under: only those can award it."""

    url: str
    title: str
    issuer: str  # the node's issuer, by name
    body: str  # its awarding body's name
    dids: frozenset[str]


def url_key(url: Any) -> tuple[str, str, int | None, str] | None:
    """What a URL names, for telling whether two spellings are the same address: the scheme and
    host in lower case, the port (the scheme's default when none is written) and the decoded
    path; the query and fragment are left out, as the node's routes ignore them."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    # Dot segments removed as a browser or yarl does (RFC 3986 §5.2.4); empty segments and a
    # host's final dot (the root of the DNS) ignored as well, though yarl keeps them: matching
    # more spellings only widens the check that a stranger does not award this node's achievement.
    segments: list[str] = []
    for segment in unquote(parts.path).split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return scheme, (parts.hostname or "").rstrip("."), port, "/" + "/".join(segments) if segments else ""


def _subjects(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    subjects = doc.get("credentialSubject")
    subjects = subjects if isinstance(subjects, list) else [subjects]
    return [s for s in subjects if isinstance(s, Mapping)]


def named_achievements(doc: Mapping[str, Any]) -> list[str]:
    """The achievement ids a credential names in ``credentialSubject.achievement.id``."""
    ids = []
    for s in _subjects(doc):
        ach = s.get("achievement")
        if isinstance(ach, Mapping) and isinstance(ach.get("id"), str):
            ids.append(ach["id"])
    return ids


async def hosted_achievements(issuers: Any, achievements: Any, ids: Iterable[str]) -> dict[str, HostedAchievement]:
    """Those of ``ids`` that are achievements this node's issuers define (however the URL is
    spelled: ``url_key``), each with the DIDs of the issuer defining it. Only ids on the node's
    own origin are looked up, and each issuer's achievements are read once."""
    base = url_key(achievements.base_url)
    if base is None:
        return {}
    scheme, host, port, prefix = base
    under = re.compile(re.escape(prefix) + r"/issuers/([^/]+)/achievements/([^/]+)")
    found: dict[str, HostedAchievement] = {}
    for i in ids:
        key = url_key(i)
        m = under.fullmatch(key[3]) if key is not None and key[:3] == (scheme, host, port) else None
        if m is None:
            continue
        # One definition looked up by its name (kept in memory once found), not every
        # definition of the issuer read and parsed on each verification.
        try:
            issuer = await issuers.get(m.group(1))
        except UnknownIssuerError:
            continue
        a = await achievements.defined(issuer.name, m.group(2))
        if a is not None and url_key(a.definition.id) == key:
            dids = frozenset(issuer.dids) | frozenset(issuer.former_did_keys)
            found[i] = HostedAchievement(a.definition.id, a.definition.title, issuer.name, a.awarding_body.name, dids)
    return found


def borrowed_achievements(doc: Mapping[str, Any], hosted: Mapping[str, HostedAchievement]) -> list[HostedAchievement]:
    """The rule: the achievements of this node that ``doc`` names though its issuer is not one
    of the DIDs of the node's issuer that defines them."""
    issuer = doc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    out = []
    for url in named_achievements(doc):
        found = hosted.get(url)
        if found is not None and not (isinstance(issuer_id, str) and issuer_id in found.dids) and found not in out:
            out.append(found)
    return out


def achievement_check(doc: Mapping[str, Any], borrowed: HostedAchievement) -> Check:
    """The failed ``achievement`` check for a credential awarding ``borrowed`` without being its issuer's."""
    issuer = doc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    detail = (
        f"the credential names this node's achievement {borrowed.url} ({borrowed.title!r}), but it was not issued "
        f"by this node's issuer {borrowed.issuer!r}: its issuer is {json.dumps(issuer_id)}; "
        f"{borrowed.issuer!r} signs as {', '.join(sorted(borrowed.dids))}"
    )
    problem = Problem(
        ACHIEVEMENT_ISSUER_MISMATCH,
        PROBLEM_BASE + ACHIEVEMENT_ISSUER_MISMATCH,
        "The credential awards an achievement of this node that its issuer does not define",
        detail,
        400,
    )
    data = {"achievement": borrowed.url, "achievementName": borrowed.title, "awardingBody": borrowed.body, "definedBy": borrowed.issuer}
    return Check("achievement", "failed", detail, problem, data)


async def check_achievement_issuers(result: VerificationResult, *, issuers: Any, achievements: Any) -> None:
    """Add a failed ``achievement`` check to each credential of ``result`` (one credential's, or
    a presentation's) that names an achievement this node defines but was not issued by the
    node's issuer defining it. Run before ``Trust.report``, so a stack counts no such part."""
    results = result.credentials if result.kind == "presentation" else [result]
    documents = [r.document for r in results if isinstance(r.document, dict)]
    ids = {i for doc in documents for i in named_achievements(doc)}
    if not ids:
        return
    try:
        hosted = await hosted_achievements(issuers, achievements, ids)
    except Exception:  # the verification result must still be answered, and never as verified
        log.exception("could not read this node's achievements")
        for r in results:
            if isinstance(r.document, dict) and named_achievements(r.document):
                r.add(Check("achievement", "unknown", "this node's achievements could not be read"))
        return
    for r in results:
        if isinstance(r.document, dict):
            for borrowed in borrowed_achievements(r.document, hosted):
                r.add(achievement_check(r.document, borrowed))


def accreditation_of(result: VerificationResult) -> JsonObject | None:
    return result.reports.get("accreditation")


__all__ = [
    "ACHIEVEMENT_ISSUER_MISMATCH",
    "AccreditationReport",
    "AccreditationVerifier",
    "PublishedCache",
    "HostedAchievement",
    "Trust",
    "TrustedBody",
    "accreditations_url",
    "add_trust_reports",
    "borrowed_achievements",
    "check_achievement_issuers",
    "fetch_published",
    "hosted_achievements",
    "url_key",
]
