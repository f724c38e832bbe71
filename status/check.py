"""Verifier side: what a credential's ``credentialStatus`` entries say, as result checks.

Bitstring Status List v1.0 §3.2 (Validate Algorithm) and §3.5 (Processing Errors). For each
``BitstringStatusListEntry`` the list credential is fetched through the guarded HTTP client
(the one did:web uses: HTTPS, SSRF guards, timeout, size cap), its proof verified and bound to
the list's own issuer, its validity period, purpose and length checked, and the entry's value
read. The list's issuer need not be the credential's (§2.2: it "MAY be different"; §3.2 compares
no issuers): whom to trust is the verifier's policy (§3.2's closing note). By default only the
credential's issuer's list, at the URL it names itself, is read (``any_publisher``: another
party's, or a copy published elsewhere, each named in the result: ``statusListIssuer``,
``statusListId``).

Three outcomes, never two: ``passed`` (the status is established and good), ``failed``
(established: revoked or suspended by the issuer), ``unknown`` (could not be established:
STATUS_RETRIEVAL_ERROR, STATUS_VERIFICATION_ERROR, STATUS_LIST_LENGTH_ERROR, RANGE_ERROR, and
MALFORMED_VALUE_ERROR for a value of the entry or the list that breaks a MUST of §2, as §3
requires: ``MalformedStatusError``).

Fetched lists are cached with their proof-verification outcome, for no longer than the
list's ``ttl``, the response's ``Cache-Control: max-age`` and ``max_staleness`` (whichever is
shortest) and never past the list's ``validUntil``. Verdicts are not cached: each call
re-reads the entry from the cached list against the current clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from did.cache import LRU, ExpiringCache
from did.errors import FetchError
from status.bitstring import MAX_DECODED_BYTES, MAX_STATUS_SIZE, MIN_STATUS_LIST_LENGTH, Bitstring, BitstringError, decode_list
from status.credential import LIST_CREDENTIAL_TYPE, LIST_TYPE, MESSAGE, REFRESH, REVOCATION, SUSPENSION
from status.entry import ENTRY_TYPE, EntryProblems, StatusEntry, is_bitstring_entry, parse_status_entry
from status.urls import same_url
from vc.credentials import verify_credential as _verify_credential
from vc.datamodel import MAX_CLOCK_SKEW, issuer_id, parse_datetime_stamp
from vc.errors import (
    MalformedValueError,
    ProblemError,
    RangeError,
    StatusListLengthError,
    StatusRetrievalError,
    StatusVerificationError,
)
from vc.results import Check, failed

log = logging.getLogger(__name__)


def _loggable(url: str) -> str:
    """A list's URL as the log may hold it: scheme, host, port and path. A query or fragment
    may carry a learner's name or an access token, and so may a user and password."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "(a URL that does not parse)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}{parts.path}"

JsonObject = dict[str, Any]
Clock = Callable[[], datetime]
# async (list_credential, *, resolver, loader, now, check_status) -> VerificationResult
VerifyCredential = Callable[..., Awaitable[Any]]

CHECK_NAME = "status"

# Check names inside the list's own VerificationResult that depend on the clock: they are
# re-evaluated on every call here, so a cached list is not judged by the time it was fetched.
_TIME_DEPENDENT = frozenset({"validity", "status"})

DEFAULT_MAX_STALENESS = timedelta(minutes=5)
DEFAULT_CACHE_MAX_ENTRIES = 256
# An encoded 16,777,216-entry list with every bit random is ~2.8 MB; lists are mostly zeros
# and far smaller. The cap keeps a hostile server from making us read without bound.
DEFAULT_MAX_LIST_BYTES = 4 * 1024 * 1024


class MalformedStatusError(MalformedValueError):
    """Bitstring Status List 1.0 §3: an algorithm that processes a property of §2 (of the entry
    or of the list credential) whose value breaks that section's MUSTs raises
    MALFORMED_VALUE_ERROR. The credential's status is then not established: unknown, as for
    §3's other errors, not a verdict on the credential."""

    outcome = "unknown"


@dataclass
class _CachedList:
    url: str
    credential: JsonObject
    issuer: str | None
    purposes: frozenset[str]
    # The list's own id when it names another URL than the one it was fetched from (a copy on
    # a mirror or a CDN); None when it names none or that one.
    named: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    expires_at: datetime
    # None when the list's proof (and the other time-independent checks) passed; otherwise
    # the problem that makes every status read from this list "unknown".
    problem: ProblemError | None
    decoded: bytes | None = None
    decode_error: BitstringError | None = None
    bitstrings: dict[int, Bitstring] = field(default_factory=dict)

    def bitstring(self, status_size: int) -> Bitstring:
        if self.decode_error is not None:
            raise self.decode_error
        if self.decoded is None:  # pragma: no cover - set at construction
            raise StatusVerificationError("the status list was not decoded")
        bits = self.bitstrings.get(status_size)
        if bits is None:
            bits = Bitstring.from_bytes(self.decoded, status_size=status_size)
            self.bitstrings[status_size] = bits
        return bits


class StatusChecker:
    """The ``check_status`` callable the vc layer takes: ``await checker(credential)``.

    ``http`` is the node's ``did.http.GuardedHTTP`` (never another client); ``resolver`` and
    ``loader`` verify the list credential's proof; ``clock`` returns an aware UTC datetime.
    ``max_clock_skew`` is how far the publisher's clock may be from ``clock`` when the list's
    ``validFrom`` and ``validUntil`` are judged: the allowance the list's proof gets
    (``vc.datamodel.MAX_CLOCK_SKEW`` unless the caller says otherwise).
    """

    def __init__(
        self,
        http: Any,
        resolver: Any,
        loader: Any,
        clock: Clock,
        *,
        max_staleness: timedelta = DEFAULT_MAX_STALENESS,
        cache_max_entries: int = DEFAULT_CACHE_MAX_ENTRIES,
        max_list_bytes: int = DEFAULT_MAX_LIST_BYTES,
        max_decoded_bytes: int = MAX_DECODED_BYTES,
        min_length: int = MIN_STATUS_LIST_LENGTH,
        max_clock_skew: timedelta = MAX_CLOCK_SKEW,
        any_publisher: bool = False,
        verify_credential: VerifyCredential | None = None,
        observe_cache: Callable[[bool], None] | None = None,
    ) -> None:
        if cache_max_entries < 0:
            raise ValueError("cache_max_entries must be >= 0")
        if max_staleness < timedelta(0):
            raise ValueError("max_staleness must not be negative")
        if max_clock_skew < timedelta(0):
            raise ValueError("max_clock_skew must not be negative")
        if verify_credential is None:
            verify_credential = _verify_credential
        self.http = http
        self.resolver = resolver
        self.loader = loader
        self.clock = clock
        self.max_staleness = max_staleness
        self.cache_max_entries = cache_max_entries
        self.max_list_bytes = max_list_bytes
        self.max_decoded_bytes = max_decoded_bytes
        self.min_length = min_length
        self.max_clock_skew = max_clock_skew
        # False (the default): a list is read only when the credential's issuer signed it and it
        # names no other URL than the one it was fetched from. True: any list whose proof verifies
        # (Bitstring Status List 1.0 §2.2: the issuers "MAY be different"; §3.2 compares
        # neither), the result naming its publisher and its id. Whoever can put bytes at the
        # list's URL (a CDN, a mirror, a DNS name taken over) could then sign a list of their
        # own in which a revoked credential's bit is clear, or serve another current list of
        # the issuer: an ecosystem that delegates status publication opts in.
        self.any_publisher = any_publisher
        self._verify_credential = verify_credential
        # observe_cache(hit) on every look-up in the list cache (the node counts hits with it).
        self._cache: ExpiringCache[_CachedList] = ExpiringCache(clock, max_entries=cache_max_entries, observe=observe_cache)
        # The last list examined per URL and when: a list fetched again (its cache entry expired,
        # or it is served without a ttl) that is exactly the document examined before is not
        # examined again (its proof verified, its bitstring decoded) for up to max_staleness,
        # the bound this checker keeps on any list's age; after that, or for any other document,
        # it is. Only lists that passed are kept.
        self._examined: LRU[str, tuple[datetime, _CachedList]] = LRU(max(1, cache_max_entries))
        self._inflight: dict[str, asyncio.Future[_CachedList]] = {}

    # The contract names the callable ``check``; ``__call__`` lets the checker itself be passed.
    async def check(self, credential: JsonObject) -> list[Check]:
        return await self(credential)

    async def __call__(self, credential: JsonObject) -> list[Check]:
        """One ``status`` check per ``credentialStatus`` entry; never raises."""
        try:
            raw = credential.get("credentialStatus") if isinstance(credential, Mapping) else None
        except Exception as e:  # pragma: no cover - a Mapping whose get fails is a bug upstream
            return [failed(CHECK_NAME, e)]
        if raw is None:
            return []
        entries = raw if isinstance(raw, list) else [raw]
        checks = []
        for entry in entries:
            try:
                checks.append(await self._check_entry(credential, entry))
            except Exception as e:  # the one conversion: vc.results.failed
                checks.append(failed(CHECK_NAME, e))
        return checks

    def clear(self) -> None:
        """Forget every cached list (e.g. an operator asking for fresh status)."""
        self._cache.clear()

    # --- one entry -----------------------------------------------------------------------

    async def _check_entry(self, credential: JsonObject, raw: Any) -> Check:
        entry, index = _parse_entry(raw)
        cached = await self._list(entry.list_url)
        now = self.clock()
        if cached.problem is not None:
            raise cached.problem
        if cached.issuer is None:
            # The proof check binds the list to its issuer (and the data model requires one), so
            # this is a verify_credential stand-in that let it through: nobody vouches for it.
            raise StatusVerificationError(f"the status list {entry.list_url} names no issuer, so nobody vouches for it")
        # A publisher stamps validFrom with its own clock as it re-signs, on every status change:
        # without the skew its proof gets, a verifier a few seconds behind would find every
        # credential on a just re-signed list of unknown status.
        if cached.valid_from is not None and now + self.max_clock_skew < cached.valid_from:
            raise StatusVerificationError(
                f"the status list {entry.list_url} is not valid yet (validFrom {cached.credential.get('validFrom')})"
            )
        if self._expired(cached, now):
            raise StatusVerificationError(
                f"the status list {entry.list_url} has expired (validUntil {cached.credential.get('validUntil')}), "
                "so the credential's current status is not known"
            )
        if entry.purpose not in cached.purposes:
            listed = ", ".join(sorted(cached.purposes)) or "none"
            raise StatusVerificationError(
                f"the credential's status entry is for '{entry.purpose}' but the status list "
                f"{entry.list_url} is for '{listed}'"
            )
        try:
            bits = cached.bitstring(entry.status_size)
        except BitstringError as e:
            raise MalformedStatusError(f"the status list {entry.list_url} is malformed: {e.detail}") from e
        if len(bits) < self.min_length:
            raise StatusListLengthError(
                f"the status list {entry.list_url} holds {len(bits)} entries, fewer than the {self.min_length} "
                "the specification requires for herd privacy, so it cannot be relied on"
            )
        if index >= len(bits):
            raise RangeError(
                f"the credential's status index {index} is outside the status list {entry.list_url}, "
                f"which holds entries 0 to {len(bits) - 1}"
            )
        credential_issuer = issuer_id(credential)
        # §2.2: the list's issuer "MAY be different" from the credential's. Its proof was bound to
        # its own issuer when fetched; read only with any_publisher, and then named in the result.
        other = None if cached.issuer == credential_issuer else (cached.issuer, credential_issuer)
        if other is not None and not self.any_publisher:
            raise StatusVerificationError(
                f"the status list {entry.list_url} was issued by {cached.issuer or '(no issuer)'}, not by the credential's "
                f"issuer {credential_issuer or '(none)'}; this verifier reads a list only from the credential's issuer "
                "(Bitstring Status List 1.0 §2.2 allows others: a verifier that trusts them accepts any publisher)"
            )
        return _verdict(entry, index, bits.get(index), other, cached.named)

    # --- the list cache --------------------------------------------------------------------

    def _expired(self, cached: _CachedList, now: datetime) -> bool:
        """Past the list's validUntil by more than the clock skew its proof is allowed: refused,
        and not kept (a copy still within the allowance is used, not fetched on every check)."""
        return cached.valid_until is not None and now - self.max_clock_skew > cached.valid_until

    async def _list(self, url: str) -> _CachedList:
        while True:
            now = self.clock()
            cached = self._cache.get(url)  # live while now < expires_at
            if cached is not None:
                if not self._expired(cached, now):
                    return cached
                self._cache.discard(url)
            pending = self._inflight.get(url)
            if pending is None:
                return await self._fetch_shared(url)
            # Concurrent checks against one list share one fetch.
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if pending.cancelled() and not (task is not None and task.cancelling()):
                    continue  # the fetching task was cancelled, not us: fetch again
                raise

    async def _fetch_shared(self, url: str) -> _CachedList:
        future: asyncio.Future[_CachedList] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        try:
            fetched = await self._fetch(url)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as e:
            future.set_exception(e)
            # Mark the exception retrieved, so a fetch nobody else awaited is not logged.
            future.exception()
            raise
        else:
            future.set_result(fetched)
            self._store(fetched)
            return fetched
        finally:
            del self._inflight[url]

    def _store(self, entry: _CachedList) -> None:
        self._cache.put_until(entry.url, entry, entry.expires_at)

    async def _fetch(self, url: str) -> _CachedList:
        fetched_at = self.clock()
        try:
            response = await self.http.get_json(url, max_bytes=self.max_list_bytes)
        except FetchError as e:
            raise StatusRetrievalError(f"the status list {url} could not be retrieved: {e.detail}") from e
        status = getattr(response, "status", 200)
        if not 200 <= status < 300:
            raise StatusRetrievalError(f"the status list {url} could not be retrieved: the server answered HTTP {status}")
        document = response.data
        if not isinstance(document, dict):
            raise StatusRetrievalError(f"the status list {url} is not a JSON object")
        return await self._examine(url, document, fetched_at, getattr(response, "max_age", None))

    async def _examine(self, url: str, document: JsonObject, fetched_at: datetime, max_age: Any) -> _CachedList:
        """Check the list credential once, when fetched; the result is cached with it."""
        kept = self._examined.get(url)
        if kept is not None and fetched_at - kept[0] < self.max_staleness and kept[1].credential == document:
            # The very document verified before (the proof check ignores time, so its outcome
            # stands); only how long this fetch may be used is new.
            return replace(kept[1], expires_at=fetched_at + self._lifetime(_ttl(document["credentialSubject"]), max_age))
        entry = await self._examine_anew(url, document, fetched_at, max_age)
        if entry.problem is None and entry.decode_error is None:
            self._examined[url] = (fetched_at, entry)
        else:
            self._examined.pop(url, None)
        return entry

    def _lifetime(self, ttl: timedelta | None, max_age: Any) -> timedelta:
        lifetime = self.max_staleness
        if ttl is not None:
            lifetime = min(lifetime, ttl)
        if isinstance(max_age, (int, float)) and not isinstance(max_age, bool) and max_age >= 0:
            lifetime = min(lifetime, timedelta(seconds=max_age))
        return lifetime

    async def _examine_anew(self, url: str, document: JsonObject, fetched_at: datetime, max_age: Any) -> _CachedList:
        problem: ProblemError | None = None
        issuer = issuer_id(document)
        subject = document.get("credentialSubject")
        subject = subject if isinstance(subject, dict) else {}
        purposes = _purposes(subject.get("statusPurpose"))
        valid_from = valid_until = None
        ttl: timedelta | None = None
        decoded: bytes | None = None
        decode_error: BitstringError | None = None
        try:
            _check_list_shape(url, document, subject, own_url=not self.any_publisher)
            valid_from, valid_until = _validity(document)
            ttl = _ttl(subject)
            try:
                decoded = decode_list(subject.get("encodedList"), max_bytes=self.max_decoded_bytes)
            except BitstringError as e:
                decode_error = e
            await self._check_proof(url, document, fetched_at)
        except (StatusVerificationError, MalformedStatusError) as e:
            problem = e
        lifetime = self._lifetime(ttl, max_age)
        log.debug(
            "status list %s fetched: %s; cached for %s",
            _loggable(url), "usable" if problem is None else f"unusable ({problem.code})", lifetime,
        )
        return _CachedList(
            url=url,
            credential=document,
            issuer=issuer,
            purposes=purposes,
            named=named if isinstance(named := document.get("id"), str) and not same_url(named, url) else None,
            valid_from=valid_from,
            valid_until=valid_until,
            expires_at=fetched_at + lifetime,
            problem=problem,
            decoded=decoded,
            decode_error=decode_error,
        )

    async def _check_proof(self, url: str, document: JsonObject, now: datetime) -> None:
        result = await self._verify_credential(
            document, resolver=self.resolver, loader=self.loader, now=now, check_status=None
        )
        bad = [c for c in result.checks if not c.ok and c.name not in _TIME_DEPENDENT]
        if not result.checks:
            raise StatusVerificationError(f"the status list {url} could not be verified (no checks ran)")
        if bad:
            reasons = "; ".join(f"{c.name}: {c.message or c.outcome}" for c in bad)
            raise StatusVerificationError(f"the status list {url} does not verify ({reasons})")


# --- pure helpers ------------------------------------------------------------------------


def _parse_entry(raw: Any) -> tuple[StatusEntry, int]:
    """The entry as this verifier reads it, with its index: §2.1's rules (``status.entry``), each
    one broken a MALFORMED_VALUE_ERROR (§3); then what this node can read."""
    if not isinstance(raw, dict):
        raise MalformedStatusError("a credentialStatus entry must be a JSON object")
    if not is_bitstring_entry(raw):
        raise StatusVerificationError(
            f"this node does not know the status method {raw.get('type')!r} (it checks {ENTRY_TYPE}), "
            "so it cannot tell whether the credential was revoked or suspended"
        )
    entry = parse_status_entry(raw)
    if isinstance(entry, EntryProblems):
        raise MalformedStatusError(f"the credential's status entry breaks Bitstring Status List 1.0 §2.1: {entry}")
    # A conforming entry this node cannot read: its status is not established, not malformed.
    if entry.status_size > MAX_STATUS_SIZE:
        raise StatusVerificationError(
            f"the credential's statusSize {entry.status_size} is larger than this node reads ({MAX_STATUS_SIZE})"
        )
    if entry.index is None:
        raise RangeError(
            f"the credential's statusListIndex has {len(raw['statusListIndex'])} digits; no status list holds that many entries"
        )
    return entry, entry.index


def _purposes(raw: Any) -> frozenset[str]:
    # The list's statusPurpose may be one string or several (§2.2: "one or more"); what is not
    # a string is no purpose (and _check_list_shape refuses the list).
    values = raw if isinstance(raw, list) else [raw]
    return frozenset(v for v in values if isinstance(v, str) and v)


def _check_list_shape(url: str, document: JsonObject, subject: JsonObject, *, own_url: bool = True) -> None:
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    if LIST_CREDENTIAL_TYPE not in types:
        raise MalformedStatusError(f"the document at {url} is not a {LIST_CREDENTIAL_TYPE} (its type does not include it)")
    # §2.2: the list "MAY express an id property that matches" the entry's URL, and §3.2 does
    # not compare them: a copy published elsewhere (a mirror, a CDN, §5) names its origin. By
    # default it must be the list the entry names: whoever serves the URL could otherwise hand
    # out another current list of the same issuer, where the credential's bit is clear. With
    # any_publisher a copy is read, and the result says what it names itself (_verdict).
    if own_url and "id" in document and not same_url(document["id"], url):
        raise StatusVerificationError(
            f"the status list fetched from {url} names itself {document['id']!r}; it is not the list the "
            "credential refers to (a copy published elsewhere is read only when the verifier accepts any publisher)"
        )
    subject_types = subject.get("type")
    subject_types = subject_types if isinstance(subject_types, list) else [subject_types]
    if LIST_TYPE not in subject_types:
        raise MalformedStatusError(f"the status list {url} has no {LIST_TYPE} subject")
    purposes = subject.get("statusPurpose")
    values = purposes if isinstance(purposes, list) else [purposes]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise MalformedStatusError(f"the status list {url}'s statusPurpose must be one or more strings, got {purposes!r}")
    if "encodedList" not in subject:
        raise MalformedStatusError(f"the status list {url} has no encodedList")


def _validity(document: JsonObject) -> tuple[datetime | None, datetime | None]:
    # VC DM 1.1 lists use issuanceDate/expirationDate.
    try:
        start_field = "validFrom" if "validFrom" in document else "issuanceDate"
        end_field = "validUntil" if "validUntil" in document else "expirationDate"
        start = parse_datetime_stamp(document[start_field], start_field, require_timezone=False) if start_field in document else None
        end = parse_datetime_stamp(document[end_field], end_field, require_timezone=False) if end_field in document else None
    except MalformedValueError as e:
        raise MalformedStatusError(f"the status list's validity period is malformed: {e.detail}") from e
    return start, end


def _ttl(subject: JsonObject) -> timedelta | None:
    ttl = subject.get("ttl")
    if ttl is None:
        return None
    # "not 0 <= ttl < inf" also refuses NaN and the infinities that Python's JSON reader admits
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 <= ttl < math.inf:
        raise MalformedStatusError(f"the status list's ttl must be a non-negative number of milliseconds, got {ttl!r}")
    try:
        return timedelta(milliseconds=ttl)
    except OverflowError:  # longer than timedelta holds: max_staleness caps the lifetime anyway
        return timedelta.max


# §2.1: "If the statusMessage array is not present, the message values associated with the
# status bit values of 1 and 0 are 'set' and 'unset', respectively."
_DEFAULT_MESSAGES = {0: "unset", 1: "set"}


def _verdict(
    entry: StatusEntry, index: int, value: int, other_issuer: tuple[str, str | None] | None = None, named: str | None = None
) -> Check:
    """§3.2 Validate Algorithm's result: status, purpose, valid (status is 0), and for the
    ``message`` purpose the entry's message for the value. ``other_issuer``: (the list's issuer,
    the credential's) when they differ; the message and ``statusListIssuer`` then say so.
    ``named``: the list's own id when it is not the URL it was read from (``statusListId``)."""
    data: JsonObject = {
        "statusPurpose": entry.purpose,
        "statusListCredential": entry.list_url,
        "statusListIndex": str(index),
        "status": hex(value),
        "valid": value == 0,
    }
    by = "its issuer"
    where = f"(entry {index} of {entry.list_url})"
    if other_issuer is not None:
        publisher, credential_issuer = other_issuer
        data["statusListIssuer"] = publisher
        by = f"{publisher}, which publishes its status list"
        where = (
            f"(entry {index} of {entry.list_url}, a list published by {publisher}, "
            f"not by the credential's issuer {credential_issuer or '(none)'})"
        )
    if named is not None:
        data["statusListId"] = named
        where = f"{where[:-1]}, a copy of the list {named})"
    message = entry.message(value)
    if message is None and entry.purpose == MESSAGE and entry.status_size == 1:
        message = _DEFAULT_MESSAGES[value]
    if message is not None:
        data["statusMessage"] = message
    if entry.status_reference is not None:
        reference = entry.status_reference
        data["statusReference"] = list(reference) if isinstance(reference, tuple) else reference
    if entry.purpose in (REVOCATION, SUSPENSION):
        if value == 0:
            adjective = "revoked" if entry.purpose == REVOCATION else "suspended"
            return Check(CHECK_NAME, "passed", f"not {adjective} {where}", None, data)
        if entry.purpose == REVOCATION:
            return Check(CHECK_NAME, "failed", f"the credential has been revoked by {by} {where}", None, data)
        return Check(CHECK_NAME, "failed", f"the credential has been suspended by {by} {where}", None, data)
    if entry.purpose == MESSAGE or entry.status_size > 1:
        shown = f"'{message}'" if message is not None else "a value with no statusMessage"
        return Check(CHECK_NAME, "passed", f"the issuer's status message is {shown} ({hex(value)}) {where}", None, data)
    if entry.purpose == REFRESH:
        text = "the issuer offers a refreshed credential" if value else "no refresh is pending"
        return Check(CHECK_NAME, "passed", f"{text} {where}", None, data)
    if value == 0:
        return Check(CHECK_NAME, "passed", f"'{entry.purpose}' status is not set {where}", None, data)
    problem = StatusVerificationError(
        f"the '{entry.purpose}' status is set {where}, and this node does not know what that purpose means"
    ).problem()
    return Check(CHECK_NAME, "unknown", problem.detail, problem, data)
