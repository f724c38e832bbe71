"""Achievements and micro-credential issuing: the node side of ``vc.edu``.

An achievement (course or module, with its Annex I elements and its awarding body) is defined
once per issuer and stored; ``POST /issuers/{name}/microcredentials`` and ``vcnode issue-batch``
award it. Nothing is handed out, and no status index spent, unless every request of the batch is
checked: a refusal names every problem by its Annex I element. A batch goes to
``node.issuance.Issuance.issue_many`` in one call, so its status indexes are allocated in one transaction and each
status list is written (and re-signed) once for the whole batch, not once per credential. What
needs the store (the achievement, the idempotency key) is checked for every request first; each
credential is then built as issuance reads it, while the pool signs those before it
(``Achievements.issue``).

Idempotency: a request carrying an idempotency key gets a credential id derived from the issuer
and the key (UUID v5). The key, the id and a hash of the request are recorded in the transaction
that records the credential (``node.issuance``: whole or absent); the same key again issues
nothing and hands back the credential already issued (its kept body: ``keep_credentials``; only
its id when the body is not kept, or was purged), and the same key with different content is
refused (409), even when the two requests are sent at the same time (``Achievements._sign``). ``vcnode issue-batch`` derives a key per row from its content when the file has no key
column, so re-running a file issues nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar, overload

from did.cache import LRU
from node.errors import (
    AchievementExistsError,
    DuplicateCredentialError,
    IdempotencyConflictError,
    InvalidRequestError,
    NodeError,
    UnknownAchievementError,
)
from node.ids import credential_urn
from node.issuance import Issuance
from node.issuers import Issuers
from node.store import Database, Row, utcnow_iso
from node.store import achievements as table
from node.store import credentials as credential_rows
from vc.edu import (
    AchievementDefinition,
    ElementProblem,
    IssuerProfile,
    Learner,
    ProfileError,
    build_microcredential,
    issuer_problems,
    normalise_grade,
    parse_achievement,
    parse_datetime,
    parse_evidence,
    parse_learner,
)

JsonObject = dict[str, Any]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Namespace of the credential ids derived from idempotency keys (fixed: ids must be stable).
_ID_NAMESPACE = uuid.UUID("5b7f0c1e-4d0a-5a51-9c3e-6d6963726f63")
AWARDING_BODY_FIELDS = ("name", "countryCode", "country", "region", "url", "email")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
REQUEST_FIELDS = ("achievementId", "learner", "validFrom", "grade", "evidence", "idempotencyKey")
MAX_BATCH = 100_000
# A validFrom this far ahead of the node's clock is taken as the caller's clock running fast.
ISSUE_DATE_SKEW = timedelta(minutes=5)


class BatchRefusedError(ProfileError):
    """Some items of a batch cannot be issued; nothing was. Problems are prefixed by the item."""

    def __init__(self, refused: Sequence["Refused"]) -> None:
        problems = [ElementProblem(f"item {r.index}", str(p)) for r in refused for p in r.problems]
        super().__init__(problems)
        self.refused = list(refused)
        self.extra["items"] = [{"index": r.index, "problems": [str(p) for p in r.problems]} for r in refused]


class UnknownAchievementRequestedError(ProfileError):
    """A request names an achievement its issuer has not defined: still 422 with every problem
    of the request (the URL it was sent to exists; only an unknown issuer is a 404), but typed
    and titled as what it is, not as a malformed micro-credential."""

    base = NodeError.base
    code = "unknown-achievement"
    title = "The request names an achievement the issuer has not defined"


@dataclass(frozen=True)
class _NoSuchAchievement(ElementProblem):
    """The problem of a request naming an achievement the issuer has not defined (told apart
    by its class, not its wording)."""


@dataclass(frozen=True)
class StoredAchievement:
    slug: str
    issuer: str
    created: str
    definition: AchievementDefinition
    awarding_body: IssuerProfile

    def to_json(self) -> JsonObject:
        out = self.definition.to_json()
        out["slug"] = self.slug
        out["issuer"] = self.issuer
        out["created"] = self.created
        out["awardingBody"] = _drop_none(
            {
                "name": self.awarding_body.name,
                "countryCode": self.awarding_body.country_code,
                "country": self.awarding_body.country,
                "region": self.awarding_body.region,
                "url": self.awarding_body.url,
                "email": self.awarding_body.email,
            }
        )
        return out


@dataclass
class Refused:
    index: int  # position in the request list (0-based) or the CSV row number
    problems: list[Any]  # ElementProblem or str
    status: int = 422


@dataclass
class Issued:
    index: int
    credential: JsonObject | None  # None for a replay whose body is not kept (keep_credentials off, or purged)
    replayed: bool  # True: the idempotency key had already issued it; nothing new was signed
    credential_id: str = ""


@dataclass
class BatchOutcome:
    issued: list[Issued] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(1 for i in self.issued if not i.replayed)


@dataclass
class _Screened:
    """A request whose shape, achievement and key were checked (``Achievements._screen``).
    Its hash is worked out when first asked for: only keyed requests need one, and in a batch
    it is asked for as each credential is built (``Achievements._award``), not while the batch
    waits for its first credentials to sign."""

    index: int
    request: Mapping[str, Any]
    achievement: StoredAchievement
    key: str | None
    credential_id: str  # derived from the key, else a fresh urn:uuid

    @cached_property
    def request_hash(self) -> str:
        return request_hash(self.achievement.slug, self.request)


@dataclass
class _Prepared(_Screened):
    credential: JsonObject


# A screened request, or one prepared (``Achievements._replays`` takes either).
S = TypeVar("S", bound=_Screened)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")
    return s or "achievement"


def parse_awarding_body(data: Any, issuer_did: str) -> IssuerProfile:
    """The ``awardingBody`` object: (d) its name, (c) its country/region; the DID is the issuer's."""
    if data is None:
        raise ProfileError(
            [ElementProblem("d", "awardingBody is required (its name, and for (c) its countryCode or region)")]
            + [ElementProblem("c", "awardingBody.countryCode (ISO 3166-1 alpha-2) or region is required")]
        )
    if not isinstance(data, Mapping):
        raise ProfileError([ElementProblem("d", "awardingBody must be an object with a name and a countryCode")])
    bad = [k for k in AWARDING_BODY_FIELDS if data.get(k) is not None and not isinstance(data.get(k), str)]
    unknown = sorted(set(data) - set(AWARDING_BODY_FIELDS))
    problems = [ElementProblem("awardingBody", f"{k} must be a string") for k in bad]
    if unknown:
        problems.append(ElementProblem("awardingBody", f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(AWARDING_BODY_FIELDS)}"))
    v = {k: (data.get(k) if k not in bad else None) for k in AWARDING_BODY_FIELDS}
    profile = IssuerProfile(issuer_did, v["name"] or "", v["countryCode"], v["country"], v["region"], v["url"], v["email"])
    problems += issuer_problems(profile)
    if problems:
        raise ProfileError(problems)
    return profile


def request_hash(achievement_slug: str, request: Mapping[str, Any]) -> str:
    """What an idempotency key stands for: the request's content, key excluded."""
    content = {k: request.get(k) for k in REQUEST_FIELDS if k != "idempotencyKey"}
    content["achievementId"] = achievement_slug
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Achievements:
    """Achievement definitions and micro-credential issuing over ``node.issuance``."""

    def __init__(
        self, db: Database, *, base_url: str, clock: Callable[[], datetime], issuers: Issuers, issuance: Issuance
    ) -> None:
        self.db = db
        self.base_url = base_url
        self.clock = clock
        self.issuers = issuers
        self.issuance = issuance
        # Definitions found by (issuer, slug): never changed or removed once stored, so a copy
        # holds for the process's life (verifications of the node's own achievements read none).
        self._defined: LRU[tuple[str, str], StoredAchievement] = LRU(1024)

    def achievement_url(self, issuer: str, slug: str) -> str:
        return f"{self.base_url}/issuers/{issuer}/achievements/{slug}"

    # --- definitions --------------------------------------------------------------------

    async def create(self, issuer_name: str, data: Any) -> StoredAchievement:
        """Validate (every problem at once) and store a definition; 422 / 409 otherwise."""
        issuer = await self.issuers.get(issuer_name)
        if not isinstance(data, Mapping):
            raise InvalidRequestError("the achievement must be a JSON object")
        slug = data.get("slug")
        explicit = slug is not None
        problems: list[ElementProblem] = []
        if explicit and (not isinstance(slug, str) or not _SLUG.fullmatch(slug)):
            # One of the problems, said with all the others (the 422 names every one of them).
            problems.append(ElementProblem("slug", "must be 1-63 lower-case letters, digits or '-', starting with a letter or digit"))
            explicit, slug = False, None
        if not explicit:
            base = data.get("humanCode") or data.get("title")
            slug = _slugify(base) if isinstance(base, str) else "achievement"
        definition_input = {k: v for k, v in data.items() if k not in ("slug", "awardingBody", "id")}
        if "id" in data:
            problems.append(ElementProblem("achievement id", "the node assigns the id (its URL); send a slug instead"))
        try:
            parse_achievement(definition_input, id=self.achievement_url(issuer_name, slug))
        except ProfileError as e:
            problems += e.problems
        try:
            body = parse_awarding_body(data.get("awardingBody"), issuer.did)
        except ProfileError as e:
            problems += e.problems
        if problems:
            raise ProfileError(problems)
        now = utcnow_iso(self.clock())
        async with self.db.transaction() as tx:
            candidate, n = slug, 1
            while await table.slug_taken(tx, issuer_name, candidate):
                if explicit:
                    raise AchievementExistsError(f"issuer {issuer_name!r} already has an achievement {slug!r}", slug=slug)
                n += 1
                candidate = f"{slug}-{n}"
            slug = candidate
            definition = parse_achievement(definition_input, id=self.achievement_url(issuer_name, slug))
            stored = StoredAchievement(slug, issuer_name, now, definition, body)
            record = stored.to_json()
            await table.insert(tx, issuer=issuer_name, slug=slug, created=now, definition=json.dumps(record))
        return stored

    def _from_row(self, row: Row) -> StoredAchievement:
        data = json.loads(row["definition"])
        body = data.pop("awardingBody")
        for k in ("slug", "issuer", "created"):
            data.pop(k, None)
        definition = parse_achievement(data)
        profile = IssuerProfile(
            "", body.get("name", ""), body.get("countryCode"), body.get("country"), body.get("region"), body.get("url"), body.get("email")
        )
        return StoredAchievement(row["slug"], row["issuer"], row["created"], definition, profile)

    async def get(self, issuer_name: str, slug: str) -> StoredAchievement:
        await self.issuers.get(issuer_name)
        async with self.db.read() as tx:
            row = await table.get(tx, issuer_name, slug)
        if row is None:
            raise UnknownAchievementError(f"issuer {issuer_name!r} has no achievement {slug!r}", issuer=issuer_name, slug=slug)
        return self._from_row(row)

    async def defined(self, issuer_name: str, slug: str) -> StoredAchievement | None:
        """The definition ``slug`` of the issuer, or None: ``get`` without the refusal, answered
        from memory once found (definitions are immutable)."""
        found = self._defined.get((issuer_name, slug))
        if found is None:
            async with self.db.read() as tx:
                row = await table.get(tx, issuer_name, slug)
            if row is None:
                return None
            found = self._defined[(issuer_name, slug)] = self._from_row(row)
        return found

    async def list(self, issuer_name: str) -> list[StoredAchievement]:
        await self.issuers.get(issuer_name)
        async with self.db.read() as tx:
            rows = await table.of_issuer(tx, issuer_name)
        return [self._from_row(r) for r in rows]

    # --- issuing ------------------------------------------------------------------------

    def credential_id_for(self, issuer_name: str, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, issuer_name + chr(10) + key)}"

    async def used_keys(self, issuer_name: str, keys: Sequence[str]) -> set[str]:
        """Which of the idempotency ``keys`` have issued a credential already: requests that
        sign nothing (``vcnode issue-batch`` starts the signing pool only for the others)."""
        async with self.db.read() as tx:
            return set(await table.keys(tx, issuer_name, keys))

    async def issue(
        self,
        issuer_name: str,
        requests: Sequence[Any],
        *,
        all_or_nothing: bool = True,
        options: Mapping[str, Any] | None = None,
        progress: Callable[[int], None] | None = None,
        plan: Callable[[int, int, int], None] | None = None,
        journal: bool = False,
    ) -> BatchOutcome:
        """Issue one micro-credential per request ``{achievementId, learner, validFrom?, grade?,
        evidence?, idempotencyKey?}``. Nothing is handed out unless every request is checked;
        with ``all_or_nothing`` any refusal raises (``BatchRefusedError``, 422; a reused key
        with other content, ``IdempotencyConflictError``, 409) and nothing is issued. Otherwise
        refused items are returned beside the issued ones. Once the requests are checked,
        ``plan(to_sign, replayed, refused)`` says what the work is; then ``progress(n)`` is
        called as credentials are signed (new work only: replays and refusals sign nothing).
        ``journal``: keep the new bodies even with ``keep_credentials`` off, until the caller
        drops them (``node.issuance``; ``vcnode issue-batch``).

        The requests are first screened (their shape, achievement and key: everything that
        needs the store) and their keys looked up; when that refuses none, each credential is
        built as issuance reads it (``_Awards``), so that on every core the first ones are
        signing while the rest are built. A request found refused there (a learner without a
        name, a grade off the scale) fails that issuance before anything is handed out; the
        batch is then checked whole, as it is at once when the screening refuses one, and
        ``plan`` is called again."""
        issuer = await self.issuers.get(issuer_name)
        if len(requests) > MAX_BATCH:
            raise InvalidRequestError(f"a batch holds at most {MAX_BATCH} requests")
        now = self.clock()
        achievements: dict[str, StoredAchievement | None] = {}
        screened: list[_Screened] = []
        keys: set[str] = set()
        for index, request in enumerate(requests):
            item, problems = await self._screen(issuer_name, index, request, now, achievements)
            if item is None or problems or item.key in keys:
                break
            if item.key is not None:
                keys.add(item.key)
            screened.append(item)
        else:
            outcome = BatchOutcome()
            fresh = await self._replays(issuer_name, screened, outcome)
            if not outcome.refused:
                if plan is not None:
                    plan(len(fresh), len(outcome.issued), 0)
                awards = _Awards(fresh, lambda s: self._award(issuer.did, s, now))
                try:
                    return await self._sign(issuer_name, fresh, awards, outcome, options, progress, journal, all_or_nothing)
                except _Unbuildable:
                    pass  # nothing was issued: the batch is checked whole below, and says why
        return await self._issue_checked(issuer_name, issuer.did, requests, now, achievements, all_or_nothing, options, progress, plan, journal)

    async def _issue_checked(
        self,
        issuer_name: str,
        issuer_did: str,
        requests: Sequence[Any],
        now: datetime,
        achievements: dict[str, StoredAchievement | None],
        all_or_nothing: bool,
        options: Mapping[str, Any] | None,
        progress: Callable[[int], None] | None,
        plan: Callable[[int, int, int], None] | None,
        journal: bool,
    ) -> BatchOutcome:
        """``issue`` with every request built and checked before anything is admitted: every
        problem of every request is named, and the requests refused are set aside."""
        outcome = BatchOutcome()
        prepared: list[_Prepared] = []
        keys_seen: dict[str, int] = {}
        for index, request in enumerate(requests):
            try:
                item = await self._prepare(issuer_name, issuer_did, index, request, now, achievements)
            except ProfileError as e:
                # An achievementId the issuer has not defined is one of these problems: the
                # request names something that does not exist, its URL does (422, not 404).
                outcome.refused.append(Refused(index, list(e.problems)))
                continue
            if item.key is not None:
                if item.key in keys_seen:
                    outcome.refused.append(
                        Refused(index, [ElementProblem("idempotencyKey", f"the same key as item {keys_seen[item.key]} of this batch")])
                    )
                    continue
                keys_seen[item.key] = index
            prepared.append(item)
        fresh = await self._replays(issuer_name, prepared, outcome)
        if outcome.refused and all_or_nothing:
            _raise_conflicts(outcome)
            if len(requests) == 1:
                problems = outcome.refused[0].problems
                unknown = any(isinstance(p, _NoSuchAchievement) for p in problems)
                raise (UnknownAchievementRequestedError if unknown else ProfileError)(problems)
            raise BatchRefusedError(sorted(outcome.refused, key=lambda r: r.index))
        if plan is not None:
            plan(len(fresh), len(outcome.issued), len(outcome.refused))
        return await self._sign(issuer_name, fresh, [p.credential for p in fresh], outcome, options, progress, journal, all_or_nothing)

    async def _replays(self, issuer_name: str, items: Sequence[S], outcome: BatchOutcome) -> list[S]:
        """The requests of ``items`` that issue something new. Keys already used are a replay
        (the same request: added to ``outcome.issued``) or a conflict (other content: 409,
        added to ``outcome.refused``). A derived id that exists without its key row (a crash
        between issuing and recording, in an older version) is a replay."""
        fresh: list[S] = []
        keyed = [p for p in items if p.key is not None]
        async with self.db.read() as tx:
            known = await table.keys(tx, issuer_name, [p.key for p in keyed if p.key is not None])
            existing = await credential_rows.existing_ids(tx, [p.credential_id for p in keyed])
            kept = await credential_rows.bodies(tx, [p.credential_id for p in keyed if p.credential_id in existing])
        for p in items:
            row = known.get(p.key) if p.key is not None else None
            if row is not None and row["request_hash"] != p.request_hash:
                outcome.refused.append(
                    Refused(p.index, [ElementProblem("idempotencyKey", f"key {p.key!r} was already used for a different request")], 409)
                )
            elif row is not None or p.credential_id in existing:
                # Issued before: handed back as kept, never signed twice.
                body = kept.get(row["credential_id"] if row is not None else p.credential_id)
                credential = json.loads(body["body"]) if body is not None else None
                outcome.issued.append(Issued(p.index, credential, True, p.credential_id))
            else:
                fresh.append(p)
        return fresh

    async def _sign(
        self,
        issuer_name: str,
        fresh: Sequence[_Screened],
        credentials: Sequence[JsonObject],
        outcome: BatchOutcome,
        options: Mapping[str, Any] | None,
        progress: Callable[[int], None] | None,
        journal: bool,
        all_or_nothing: bool = True,
    ) -> BatchOutcome:
        """Issue ``credentials`` (those of the requests ``fresh``, in order) with their keys,
        into ``outcome``.

        A key is looked up before signing, so a request with the same key sent at the same
        time (to this process or another replica) can complete first: its credential (the id
        derived from the key) is then there when this one is recorded, and issuance refuses the
        whole batch as a duplicate. What that request recorded decides, as if it had come
        first: the same request is a replay, another one a conflict (409); the batch's other
        items are issued again (the indexes of the failed attempt stay spent)."""
        while fresh:
            when = utcnow_iso(self.clock())
            issuing = fresh

            async def record_keys(tx: Any, signed: list[JsonObject]) -> None:
                # In the transaction that records the credentials: a key never names a
                # credential that is not there, and a credential never lacks its key.
                await table.record_keys(
                    tx, [(issuer_name, p.key, s["id"], p.request_hash, when) for p, s in zip(issuing, signed) if p.key is not None]
                )

            try:
                signed = await self.issuance.issue_many(
                    issuer_name, credentials, options, progress=progress, journal=journal, complete=record_keys
                )
            except DuplicateCredentialError:
                if not any(p.key is not None for p in fresh):
                    raise
                still = await self._replays(issuer_name, fresh, outcome)
                if len(still) == len(fresh):
                    raise  # no key of ours was taken meanwhile: not a race this can settle
                if all_or_nothing:
                    _raise_conflicts(outcome)
                place = {id(p): i for i, p in enumerate(fresh)}
                credentials = [credentials[place[id(p)]] for p in still]
                fresh = still
                continue
            outcome.issued += [Issued(p.index, s, False, s["id"]) for p, s in zip(fresh, signed)]
            break
        outcome.issued.sort(key=lambda i: i.index)
        outcome.refused.sort(key=lambda r: r.index)
        return outcome

    async def check(self, issuer_name: str, request: Any) -> str | None:
        """Check one award request as ``issue`` would, issuing nothing (a credential offer is
        checked when it is made, not when the wallet collects it): ``ProfileError`` naming every
        problem (422), ``IdempotencyConflictError`` when its key has issued already (409).
        Returns the request's idempotency key."""
        issuer = await self.issuers.get(issuer_name)
        item = await self._prepare(issuer_name, issuer.did, 0, request, self.clock(), {})
        if item.key is not None:
            async with self.db.read() as tx:
                known = await table.keys(tx, issuer_name, [item.key])
            if item.key in known:
                raise IdempotencyConflictError(
                    f"key {item.key!r} has issued a credential already ({known[item.key]['credential_id']})", key=item.key
                )
        return item.key

    async def _prepare(
        self,
        issuer_name: str,
        issuer_did: str,
        index: int,
        request: Any,
        now: datetime,
        cache: dict[str, StoredAchievement | None],
    ) -> _Prepared:
        """The request screened and its credential built: ``ProfileError`` naming every problem."""
        screened, problems = await self._screen(issuer_name, index, request, now, cache)
        if not isinstance(request, Mapping):
            raise ProfileError(problems)
        credential = self._build(
            issuer_did,
            screened.request if screened else request,
            screened.achievement if screened else None,
            screened.credential_id if screened else "",
            now,
            problems,
        )
        assert screened is not None  # _build raises without an achievement
        return _Prepared(screened.index, screened.request, screened.achievement, screened.key, screened.credential_id, credential)

    async def _screen(
        self, issuer_name: str, index: int, request: Any, now: datetime, cache: dict[str, StoredAchievement | None]
    ) -> tuple["_Screened | None", list[ElementProblem]]:
        """What can be said of a request without building its credential: its shape, the
        achievement it names (``cache``: read once per batch) and its idempotency key. None
        when it names no achievement there is; the problems found."""
        if not isinstance(request, Mapping):
            return None, [ElementProblem("request", "must be an object with achievementId and learner")]
        problems: list[ElementProblem] = []
        unknown = sorted(set(request) - set(REQUEST_FIELDS))
        if unknown:
            problems.append(ElementProblem("request", f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(REQUEST_FIELDS)}"))
        slug = request.get("achievementId")
        achievement: StoredAchievement | None = None
        if not isinstance(slug, str) or not slug:
            problems.append(ElementProblem("achievementId", "is required (the achievement's slug)"))
        else:
            if slug not in cache:
                try:
                    cache[slug] = await self.get(issuer_name, slug)
                except UnknownAchievementError:
                    cache[slug] = None
            achievement = cache[slug]
            if achievement is None:
                problems.append(_NoSuchAchievement("achievementId", f"issuer {issuer_name!r} has no achievement {slug!r}"))
        key = request.get("idempotencyKey")
        # No control characters: PostgreSQL's text holds no NUL, and a key is an operator's label.
        if key is not None and (not isinstance(key, str) or not key or len(key) > 200 or _CONTROL.search(key)):
            problems.append(ElementProblem("idempotencyKey", "must be a non-empty string of at most 200 characters, none a control character"))
            key = None
        if achievement is None:
            return None, problems
        grade = request.get("grade")
        if isinstance(grade, str):
            # As the scale writes it (b -> B, vc.edu.normalise_grade, as vcnode issue-batch reads
            # a row): the credential carries that spelling, and the idempotency key stands for it.
            spelled = normalise_grade(grade, achievement.definition.assessment.allowed_values)
            if spelled != grade:
                request = {**request, "grade": spelled}
        credential_id = self.credential_id_for(issuer_name, key) if key is not None else credential_urn(now)
        return _Screened(index, request, achievement, key, credential_id), problems

    def _award(self, issuer_did: str, screened: _Screened, now: datetime) -> JsonObject:
        """The credential of a screened request of a batch (``_Awards``), its key's hash beside."""
        if screened.key is not None:
            screened.request_hash  # noqa: B018  (worked out here, beside the signing, not in the completing transaction)
        return self._build(issuer_did, screened.request, screened.achievement, screened.credential_id, now, [])

    def _build(
        self,
        issuer_did: str,
        request: Mapping[str, Any],
        achievement: StoredAchievement | None,
        credential_id: str,
        now: datetime,
        problems: list[ElementProblem],
    ) -> JsonObject:
        """The micro-credential a screened request awards (``problems``: the screening's);
        ``ProfileError`` naming those and every problem of the award (learner, date, grade,
        evidence, Annex I)."""
        learner = None
        try:
            learner = parse_learner(request.get("learner"))
        except ProfileError as e:
            problems += e.problems
        valid_from = now
        if request.get("validFrom") is not None:
            try:
                valid_from = parse_datetime(request["validFrom"])
            except ProfileError as e:
                problems += e.problems
            else:
                if valid_from > now + ISSUE_DATE_SKEW:
                    # Annex I (e) is the date of issuing: a later one is not yet true, and every
                    # verifier would refuse the credential as not yet valid until then.
                    problems.append(ElementProblem("e", f"the date of issue cannot be in the future, got {request['validFrom']!r}"))
        grade = request.get("grade")
        if grade is not None and not isinstance(grade, str):
            problems.append(ElementProblem("grade", "must be a string"))
            grade = None
        evidence: tuple[Any, ...] = ()
        try:
            evidence = parse_evidence(request.get("evidence"))
        except ProfileError as e:
            problems += e.problems
        if achievement is None:
            raise ProfileError(problems)
        profile = IssuerProfile(issuer_did, *[getattr(achievement.awarding_body, f) for f in ("name", "country_code", "country", "region", "url", "email")])
        try:
            # Built even when the learner was refused (with a stand-in), so the award's own
            # problems (a grade outside the scale, say) are reported in the same answer.
            credential = build_microcredential(
                achievement.definition,
                profile,
                learner or Learner("stand-in"),
                valid_from=valid_from,
                credential_id=credential_id,
                grade=grade,
                evidence=evidence,
            )
        except ProfileError as e:
            problems += e.problems
        if problems or learner is None:
            raise ProfileError(problems)
        return credential


def _raise_conflicts(outcome: BatchOutcome) -> None:
    """``IdempotencyConflictError`` (409) when every refusal of ``outcome`` is a key reused for
    another request."""
    conflicts = [r for r in outcome.refused if r.status == 409]
    if conflicts and len(conflicts) == len(outcome.refused):
        raise IdempotencyConflictError(
            "; ".join(f"item {r.index}: {r.problems[0]}" for r in conflicts),
            items=[{"index": r.index, "problems": [str(p) for p in r.problems]} for r in conflicts],
        )


class _Unbuildable(Exception):
    """A screened request whose credential cannot be built (``_Awards``): the issuance reading
    it fails, before anything is handed out, and the batch is checked whole."""


class _Awards(Sequence[JsonObject]):
    """The credentials of screened requests, each built when issuance first reads it
    (``node.issuance`` reads a batch in order, a stage at a time, and signs each stage while it
    reads the next): the building is spread over the signing instead of done before it."""

    def __init__(self, screened: Sequence[_Screened], build: Callable[[_Screened], JsonObject]) -> None:
        self._screened = screened
        self._build = build
        self._built: list[JsonObject | None] = [None] * len(screened)

    def __len__(self) -> int:
        return len(self._screened)

    def __iter__(self) -> Iterator[JsonObject]:
        # Not Sequence's own, which ends at the first IndexError: one raised while building
        # would end the batch short instead of failing it.
        return (self[i] for i in range(len(self)))

    @overload
    def __getitem__(self, i: int) -> JsonObject: ...
    @overload
    def __getitem__(self, i: slice) -> list[JsonObject]: ...
    def __getitem__(self, i: int | slice) -> JsonObject | list[JsonObject]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        built = self._built[i]
        if built is None:
            try:
                built = self._built[i] = self._build(self._screened[i])
            except ProfileError as e:
                raise _Unbuildable from e
        return built
