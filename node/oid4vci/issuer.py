"""The node as an OpenID4VCI 1.0 Credential Issuer (and its own authorization server), for the
pre-authorized code flow: a learner's wallet collects a micro-credential from an offer.

    issuer (POST /issuers/{name}/offers)   create_offer: the award is checked in full (Annex I,
                                           idempotency key) and stored; the offer, its link and
                                           its QR code are handed back, the code only once
    wallet -> token endpoint               exchange: the pre-authorized code (and tx_code) for
                                           a short-lived access token, once
    wallet -> nonce endpoint               new_nonce: a c_nonce for the key proof
    wallet -> credential endpoint          issue_credential: the key proof checked, the nonce
                                           spent, the offer claimed, then the award issued
                                           through node.achievements (status entry,
                                           idempotency key) with credentialSubject.id = the
                                           wallet's DID
    wallet -> notification endpoint        notify: accepted / failure / deleted, recorded

Every single-use step (code, nonce, offer) is one conditional update in the store, so
processes and replicas sharing a store cannot use one twice. Codes and tokens are kept as
hashes. Refusals raise ``OAuthError`` with the specification's code; every check that can
refuse comes before anything is issued or allocated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Literal, Mapping
from urllib.parse import quote, unquote_plus

from did.resolver import Resolver
from node.achievements import Achievements
from node.errors import IdempotencyConflictError, InvalidRequestError, NodeError, UnknownAchievementError
from node.issuers import DEFAULT_ISSUER, Issuers
from node.oid4vci import metadata
from node.oid4vci.errors import (
    OAuthError,
    invalid_credential_request,
    invalid_grant,
    invalid_nonce,
    invalid_proof,
    invalid_request,
    invalid_token,
)
from node.oid4vci.metadata import PRE_AUTHORIZED_GRANT, IssuerURLs
from node.oid4vci.proofs import verify_key_proof
from node.oid4vci.qr import MAX_QR_BYTES, qr_png, qr_svg
from node.store import Database, Row, Tx, utcnow_iso
from node.store import oid4vci as table
from vc.edu import ElementProblem, ProfileError
from vc.errors import ProblemError
from vc.limits import Limits, parse_json

JsonObject = dict[str, Any]

log = logging.getLogger(__name__)

OFFER_SCHEME = "openid-credential-offer://"
# Transaction Code Guessing (§13.6.3): a pre-authorized code is dead after this many wrong codes.
MAX_TX_CODE_FAILURES = 5
# The token request's parameters the node reads (§6.1, RFC 6749 §4.1.3); others are ignored.
TOKEN_PARAMETERS = ("grant_type", "pre-authorized_code", "tx_code", "authorization_details")
NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")
# Text transaction codes: capitals and digits without the look-alikes (0/O, 1/I).
_TEXT_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_SURROGATE = re.compile("[\ud800-\udfff]")
# authorization_details: a few small entries, one per offered configuration.
_DETAILS_LIMITS = Limits(max_bytes=16 * 1024, max_depth=8, max_nodes=500)
OfferStateName = Literal["offered", "redeemed", "issuing", "issued", "expired", "locked"]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _tx_hash(code: str, tx_code: str) -> str:
    # Salted with the pre-authorized code (never stored): a copy of the store does not let
    # anyone try the few thousand short transaction codes offline.
    return _hash(code + "\n" + tx_code)


def _typed_tx_code(value: str) -> str:
    """A transaction code as the learner meant it: surrounding whitespace dropped and ASCII
    letters in capitals. The node makes codes of digits or of capitals and digits only, so
    nothing that could match is lost, while a phone keyboard that starts in lower case, or a
    space pasted along, no longer spends one of the few attempts (§13.6.3) on a right code."""
    return value.strip().translate(_ASCII_UPPER)


def _authorization_details(text: str, identifier: str) -> list[JsonObject]:
    """The token request's ``authorization_details`` (RFC 9396 §2): a JSON array of
    ``openid_credential`` entries, each naming a ``credential_configuration_id`` (§5.1.1), as
    wallets send it in the pre-authorized code flow (§6.1.1; the EUDI wallet library does with
    AccessTokenOption.Limited). Members this issuer does not know are ignored (§5.1.1: the type
    "is never considered invalid due to unknown fields"); ``claims``, which would ask for part
    of the credential, and ``locations`` naming another issuer are refused."""
    def refuse(why: str) -> OAuthError:
        return OAuthError("invalid_authorization_details", why)

    value = text.strip()
    if value[:3].upper() == "%5B":
        # JSON never starts with '%': a client that form-encodes the JSON itself before its
        # HTTP library encodes the form (eudi-lib-jvm-openid4vci-kt's toFormParamString)
        # sends it encoded twice.
        value = unquote_plus(value)
    try:
        details = parse_json(value, limits=_DETAILS_LIMITS)
    except ProblemError as e:
        raise refuse(f"authorization_details is not a JSON array: {e.detail}") from None
    if not isinstance(details, list) or not details:
        raise refuse("authorization_details must be a non-empty JSON array of objects (RFC 9396 §2)")
    seen: set[str] = set()
    for entry in details:
        if not isinstance(entry, dict) or entry.get("type") != "openid_credential":
            if isinstance(entry, dict) and "type" not in entry:
                raise refuse('each authorization_details entry needs "type": "openid_credential" (RFC 9396 §2)')
            kind = entry.get("type") if isinstance(entry, dict) else entry
            raise refuse(f"this issuer knows authorization details of type openid_credential only, not {kind!r}")
        configuration = entry.get("credential_configuration_id")
        if not isinstance(configuration, str) or not configuration:
            raise refuse("each openid_credential entry names its credential_configuration_id (§5.1.1)")
        if configuration in seen:
            raise refuse(f"credential_configuration_id {configuration!r} is named twice")
        seen.add(configuration)
        if "claims" in entry:
            raise refuse("this issuer issues the whole credential: claims in authorization_details is not supported")
        locations = entry.get("locations")
        if locations is not None and not (
            isinstance(locations, list) and any(isinstance(u, str) and u.rstrip("/") == identifier for u in locations)
        ):
            raise refuse(f"locations must name this credential issuer ({identifier})")
    return details


def _what_to_send(row: Row) -> str:
    """What names the credential in a request with the token of ``row`` (OpenID4VCI 1.0 §8.2)."""
    if row["identifiers_granted"] is None:
        return "credential_configuration_id, or the credential_identifier the token response named"
    if row["identifiers_granted"]:
        return f"credential_identifier {row['id']!r}, which the token response named"
    return f"credential_configuration_id {row['configuration_id']!r}"


def _nonce_key(issuer_name: str, nonce: str) -> str:
    # A c_nonce is kept with the issuer whose nonce endpoint gave it (Appendix F.4: the proof's
    # nonce must match "the server-provided c_nonce value"; each issuer has its own endpoint),
    # so one issuer's nonce is unknown to another. Nonces and issuer names hold no space.
    return f"{issuer_name} {nonce}"


@dataclass(frozen=True)
class TxCode:
    """A transaction code the wallet must send with the pre-authorized code (§4.1.1): made by the
    node, handed to the issuer once, delivered to the learner by another channel."""

    length: int = 6
    input_mode: Literal["numeric", "text"] = "numeric"
    description: str | None = None

    def __post_init__(self) -> None:
        if not 4 <= self.length <= 12:
            raise InvalidRequestError("a transaction code has 4 to 12 characters", field="txCode.length")
        if self.input_mode not in ("numeric", "text"):
            raise InvalidRequestError("txCode.inputMode is numeric or text", field="txCode.inputMode")
        # §4.1.1 limits the description's length only ("MUST NOT exceed 300 characters"); it is
        # shown to the learner, in their language (Código por SMS, Bestätigungscode per E-Mail).
        if self.description is not None and len(self.description) > 300:
            raise InvalidRequestError(
                f"txCode.description is at most 300 characters (§4.1.1), not {len(self.description)}", field="txCode.description"
            )
        if self.description is not None and (half := _SURROGATE.search(self.description)) is not None:
            # What an undecodable byte of a command-line argument becomes: no UTF-8 carries it.
            raise InvalidRequestError(
                f"txCode.description is not Unicode text: it holds U+{ord(half.group()):04X}, half of a surrogate pair",
                field="txCode.description",
            )

    def make(self) -> str:
        alphabet = string.digits if self.input_mode == "numeric" else _TEXT_ALPHABET
        return "".join(secrets.choice(alphabet) for _ in range(self.length))

    def to_offer(self) -> JsonObject:
        out: JsonObject = {"input_mode": self.input_mode, "length": self.length}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class NewOffer:
    """A credential offer as made: ``link`` and ``credential_offer`` hold the pre-authorized
    code, and ``tx_code`` the transaction code; neither is kept by the node, so this is the
    only time they are seen."""

    id: str
    issuer: str
    configuration_id: str
    credential_offer: JsonObject
    link: str
    tx_code: str | None
    expires: datetime

    def to_json(self) -> JsonObject:
        """The offer as ``POST /issuers/{name}/offers`` answers it (and ``vcnode offer create --json``
        prints it): with the link's QR code, PNG as a data: URL and SVG."""
        out: JsonObject = {
            "id": self.id,
            "credentialIssuer": self.credential_offer["credential_issuer"],
            "credentialConfigurationId": self.configuration_id,
            "credentialOffer": self.credential_offer,
            "link": self.link,
            "qrCode": {"png": "data:image/png;base64," + base64.b64encode(qr_png(self.link)).decode("ascii"), "svg": qr_svg(self.link)},
            "expires": utcnow_iso(self.expires),
        }
        if self.tx_code is not None:
            out["txCode"] = self.tx_code
        return out


@dataclass(frozen=True)
class OfferState:
    id: str
    issuer: str
    configuration_id: str
    state: OfferStateName
    created: str
    expires: str
    holder: str | None
    credential_id: str | None
    notification: str | None

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "id": self.id,
            "issuer": self.issuer,
            "credentialConfigurationId": self.configuration_id,
            "state": self.state,
            "created": self.created,
            "expires": self.expires,
        }
        for key, value in (("holder", self.holder), ("credentialId", self.credential_id), ("notification", self.notification)):
            if value is not None:
                out[key] = value
        return out


class UnknownOfferError(NodeError):
    code, title, http_status = "unknown-offer", "No such credential offer", 404


class InsecureIssuerError(NodeError):
    code, title, http_status = "insecure-credential-issuer", "The Credential Issuer Identifier is not an https URL", 409


class OfferedAlreadyError(IdempotencyConflictError):
    """The award's idempotency key is held by an offer that can still be collected: of two such
    offers only the first collected could issue, and the other's wallet would be refused."""

    title = "Idempotency key held by a live credential offer"


def _may_still_issue(row: Row, now: str) -> bool:
    """Whether an offer can still issue its award: not issued, and its code (unused, not void)
    or the token it was exchanged for still live; a claim needs a live token too."""
    if row["request"] is None or row["credential_id"] is not None:
        return False
    if row["redeemed"] is not None:
        return bool(row["token_expires"] >= now)
    return bool(row["tx_failures"] < MAX_TX_CODE_FAILURES and row["expires"] >= now)


class CredentialIssuer:
    def __init__(
        self,
        db: Database,
        *,
        base_url: str,
        clock: Callable[[], datetime],
        issuers: Issuers,
        achievements: Achievements,
        resolver: Resolver,
        offer_ttl_seconds: int,
        token_ttl_seconds: int,
        nonce_ttl_seconds: int,
    ) -> None:
        self.db = db
        self.base_url = base_url
        self.clock = clock
        self.issuers = issuers
        self.achievements = achievements
        self.resolver = resolver
        self.offer_ttl = offer_ttl_seconds
        self.token_ttl = token_ttl_seconds
        self.nonce_ttl = nonce_ttl_seconds

    def urls(self, issuer_name: str) -> IssuerURLs:
        return IssuerURLs.of(self.base_url, issuer_name, default=issuer_name == DEFAULT_ISSUER)

    # --- metadata -------------------------------------------------------------------------

    async def issuer_metadata(self, issuer_name: str) -> JsonObject:
        await self.issuers.get(issuer_name)
        return metadata.issuer_metadata(self.urls(issuer_name), issuer_name, await self.achievements.list(issuer_name))

    async def authorization_server_metadata(self, issuer_name: str) -> JsonObject:
        await self.issuers.get(issuer_name)
        return metadata.authorization_server_metadata(self.urls(issuer_name))

    # --- offers ---------------------------------------------------------------------------

    async def create_offer(
        self,
        issuer_name: str,
        award: Any,
        *,
        tx_code: TxCode | None = None,
        expires_in: int | None = None,
        allow_insecure_hosts: Iterable[str] = (),
    ) -> NewOffer:
        """An offer of one micro-credential: ``award`` is what ``POST /issuers/{name}/microcredentials``
        takes for one credential, without the learner's ``id`` (the wallet's DID becomes it).
        Checked completely now (422 naming every problem, 409 for an idempotency key that has
        issued or that a live offer holds); nothing is stored unless it would issue. Refused
        (``InsecureIssuerError``, 409) when the Credential Issuer Identifier is not https, unless
        its host is local or among ``allow_insecure_hosts`` (``Config.allow_insecure_hosts``)."""
        await self.issuers.get(issuer_name)
        problem = metadata.identifier_problem(self.urls(issuer_name).identifier, allow_insecure_hosts)
        if problem is not None:
            raise InsecureIssuerError(problem, issuer=issuer_name)
        if not isinstance(award, Mapping):
            raise InvalidRequestError("the award must be an object {achievementId, learner, ...}")
        learner = award.get("learner")
        if isinstance(learner, Mapping) and learner.get("id") is not None:
            raise ProfileError(
                [ElementProblem("a", "leave out the learner's id: the credential is bound to the DID of the wallet that collects it")]
            )
        ttl = self.offer_ttl if expires_in is None else expires_in
        if not 60 <= ttl <= 30 * 86400:
            raise InvalidRequestError("an offer lives 60 seconds to 30 days (expiresIn)", field="expiresIn")
        offer_id = str(uuid.uuid4())
        request = dict(award)
        own_key = request.get("idempotencyKey")
        # Without a key of the issuer's own, the offer is the award's identity: collecting it
        # twice (a crash, a retry) never issues two credentials.
        request.setdefault("idempotencyKey", f"oid4vci-offer:{offer_id}")
        await self.achievements.check(issuer_name, request)
        slug = request["achievementId"]
        code = secrets.token_urlsafe(32)
        tx_value = tx_code.make() if tx_code is not None else None
        grant: JsonObject = {"pre-authorized_code": code}
        if tx_code is not None:
            grant["tx_code"] = tx_code.to_offer()
        offer = {
            "credential_issuer": self.urls(issuer_name).identifier,
            "credential_configuration_ids": [slug],
            "grants": {PRE_AUTHORIZED_GRANT: grant},
        }
        # UTF-8, percent-encoded (RFC 3986 §2.5): an accented letter takes 6 bytes of the link,
        # where its JSON escape (\u00e9) would take 8.
        link = OFFER_SCHEME + "?credential_offer=" + quote(json.dumps(offer, separators=(",", ":"), ensure_ascii=False), safe="")
        if len(link) > MAX_QR_BYTES:
            # The offer goes by value, so all of it must fit in its QR code: a description of
            # 300 characters of a script other than Latin does not (9 bytes a character).
            raise InvalidRequestError(
                f"the offer's link would be {len(link)} bytes, more than a QR code holds ({MAX_QR_BYTES}); shorten "
                "txCode.description (each non-ASCII character takes 6 to 12 bytes in the link)",
                field="txCode.description",
            )
        now = self.clock()
        expires = now + timedelta(seconds=ttl)
        async with self.db.transaction() as tx:
            await table.forget_unusable(tx, utcnow_iso(now))
            if own_key is not None:
                # Checked in the transaction that inserts, so two offers made at once agree.
                await self._refuse_if_offered(tx, issuer_name, own_key, utcnow_iso(now))
            await table.insert_offer(
                tx,
                offer_id=offer_id,
                issuer=issuer_name,
                configuration_id=slug,
                request=json.dumps(request, ensure_ascii=False),
                code_hash=_hash(code),
                tx_code_hash=_tx_hash(code, tx_value) if tx_value is not None else None,
                created=utcnow_iso(now),
                expires=utcnow_iso(expires),
                idempotency_key=request["idempotencyKey"],
            )
        return NewOffer(offer_id, issuer_name, slug, offer, link, tx_value, expires)

    async def _refuse_if_offered(self, tx: Tx, issuer_name: str, key: Any, now: str) -> None:
        """``OfferedAlreadyError`` when a live offer of the issuer holds ``key``. Achievements.check
        only knows keys that have issued; two offers of one key would both pass it, and the
        second wallet to collect would be refused (its learner.id differs), long after the
        operator could have noticed."""
        for row in await table.holding_key(tx, issuer_name, key):
            if _may_still_issue(row, now):
                until = row["token_expires"] if row["redeemed"] is not None else row["expires"]
                raise OfferedAlreadyError(
                    f"idempotency key {key!r} is held by offer {row['id']}, which can still be collected (until {until}); "
                    "one key issues one credential: wait until that offer is collected or expires, or use another key",
                    key=key, offerId=row["id"],
                )

    async def offer(self, issuer_name: str, offer_id: str) -> OfferState:
        await self.issuers.get(issuer_name)
        async with self.db.read() as tx:
            row = await table.get(tx, offer_id)
        if row is None or row["issuer"] != issuer_name:
            raise UnknownOfferError(f"issuer {issuer_name!r} has no offer {offer_id!r}", issuer=issuer_name)
        return self._state(row)

    def _state(self, row: Row) -> OfferState:
        now = utcnow_iso(self.clock())
        state: OfferStateName
        if row["credential_id"] is not None:
            state = "issued"
        elif row["claimed"] is not None:
            state = "issuing"
        elif row["redeemed"] is not None:
            state = "redeemed" if row["token_expires"] >= now else "expired"
        elif row["tx_failures"] >= MAX_TX_CODE_FAILURES:
            state = "locked"
        else:
            state = "offered" if row["expires"] >= now else "expired"
        return OfferState(
            row["id"], row["issuer"], row["configuration_id"], state, row["created"], row["expires"],
            row["holder"], row["credential_id"], row["notification_event"],
        )

    # --- token endpoint -------------------------------------------------------------------

    async def exchange(self, issuer_name: str, form: Mapping[str, list[str]]) -> JsonObject:
        """The token request (§6.1, RFC 6749 §4.1.3): a pre-authorized code, once, for an access token."""
        await self.issuers.get(issuer_name)
        # RFC 6749 §5.2 counts a repeated parameter as invalid_request, and §6.1 says the
        # server "MUST ignore any unrecognized parameters": only the ones read here count.
        repeated = sorted(k for k in TOKEN_PARAMETERS if len(form.get(k, ())) > 1)
        if repeated:
            raise invalid_request(f"parameter(s) sent more than once: {', '.join(repeated)}")
        params = {k: v[0] for k, v in form.items()}
        grant_type = params.get("grant_type")
        if not grant_type:
            raise invalid_request("grant_type is required")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise OAuthError("unsupported_grant_type", f"this issuer accepts the grant type {PRE_AUTHORIZED_GRANT} only")
        code = params.get("pre-authorized_code")
        if not code:
            raise invalid_request("pre-authorized_code is required")
        details = params.get("authorization_details")
        requested = None if details is None else _authorization_details(details, self.urls(issuer_name).identifier)
        tx_code = params.get("tx_code")
        now = self.clock()
        when = utcnow_iso(now)
        token = secrets.token_urlsafe(32)
        refusal: OAuthError | None = None
        async with self.db.transaction() as tx:
            row = await table.by_code(tx, _hash(code))
            if row is None or row["issuer"] != issuer_name:
                raise invalid_grant("the pre-authorized code is not known to this issuer")
            if row["redeemed"] is not None:
                raise invalid_grant("the pre-authorized code was used already")
            if row["tx_failures"] >= MAX_TX_CODE_FAILURES:
                raise invalid_grant("too many wrong transaction codes: the offer is void; ask the issuer for a new one")
            if row["expires"] < when:
                raise invalid_grant("the credential offer has expired; ask the issuer for a new one")
            if requested is not None:
                asked = [d["credential_configuration_id"] for d in requested]
                if asked != [row["configuration_id"]]:
                    raise OAuthError(
                        "invalid_authorization_details",
                        f"this offer is for the credential configuration {row['configuration_id']!r} only, not {', '.join(map(repr, asked))}",
                    )
            if row["tx_code_hash"] is None and tx_code is not None:
                raise invalid_request("this offer has no transaction code; leave tx_code out")
            if row["tx_code_hash"] is not None:
                typed = _typed_tx_code(tx_code or "")
                if not typed:
                    raise invalid_request("this offer needs its transaction code (tx_code)")
                if not secrets.compare_digest(_tx_hash(code, typed), row["tx_code_hash"]):
                    # Counted, and committed, before the refusal goes out.
                    failures = await table.count_tx_failure(tx, row["id"])
                    left = MAX_TX_CODE_FAILURES - failures
                    refusal = invalid_grant(
                        f"the transaction code is wrong; {left} attempt(s) left" if left > 0 else "the transaction code is wrong; the offer is void"
                    )
            if refusal is None:
                token_expires = now + timedelta(seconds=self.token_ttl)
                if not await table.redeem(
                    tx, row["id"], token_hash=_hash(token), token_expires=utcnow_iso(token_expires), now=when,
                    max_failures=MAX_TX_CODE_FAILURES, identifiers_granted=requested is not None,
                ):
                    raise invalid_grant("the pre-authorized code was used already")
        if refusal is not None:
            raise refusal
        out: JsonObject = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}
        if requested is not None:
            # §6.2: REQUIRED when the request had authorization_details, each with the
            # credential_identifiers the wallet then sends (§8.2). The offer's one credential
            # dataset is named by the offer's id, which only this token's offer has.
            out["authorization_details"] = [
                {**{k: d[k] for k in ("type", "credential_configuration_id", "locations") if k in d}, "credential_identifiers": [row["id"]]}
                for d in requested
            ]
        return out

    # --- nonce endpoint -------------------------------------------------------------------

    async def new_nonce(self, issuer_name: str) -> str:
        """A fresh, unpredictable c_nonce (§7), accepted in one key proof until it expires."""
        await self.issuers.get(issuer_name)
        nonce = secrets.token_urlsafe(24)
        now = self.clock()
        async with self.db.transaction() as tx:
            await table.sweep_nonces(tx, utcnow_iso(now))
            await table.insert_nonce(tx, _nonce_key(issuer_name, nonce), utcnow_iso(now + timedelta(seconds=self.nonce_ttl)))
        return nonce

    # --- credential endpoint --------------------------------------------------------------

    async def offer_for_token(self, issuer_name: str, authorization: str | None) -> Row:
        """The offer a live access token was issued for (RFC 6750 §2.1 bearer header)."""
        if not authorization:
            raise invalid_token("send the access token from the token endpoint as Authorization: Bearer TOKEN", bare=True)
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise invalid_token("the access token goes in Authorization: Bearer TOKEN (this issuer does not bind tokens with DPoP)", bare=True)
        if not value.strip():
            raise invalid_token("the access token goes in Authorization: Bearer TOKEN")
        async with self.db.read() as tx:
            row = await table.by_token(tx, _hash(value.strip()))
        if row is None or row["issuer"] != issuer_name:
            raise invalid_token("the access token is not known to this issuer")
        if row["token_expires"] < utcnow_iso(self.clock()):
            raise invalid_token("the access token has expired")
        return row

    async def issue_credential(self, issuer_name: str, authorization: str | None, body: Any) -> JsonObject:
        """The credential request (§8.2) -> the credential response (§8.3). In order: the token,
        the request's form (the credential named by credential_identifier if the token response
        returned credential_identifiers, else by credential_configuration_id; an identifier the
        token response did not give is refused, the token's own configuration id is taken),
        the configuration, the key proof (signature, audience, iat), the nonce (spent), the
        offer (claimed); only then is anything issued."""
        await self.issuers.get(issuer_name)
        row = await self.offer_for_token(issuer_name, authorization)
        if not isinstance(body, dict):
            raise invalid_credential_request("the credential request must be a JSON object")
        if body.get("credential_response_encryption") is not None:
            raise OAuthError("invalid_encryption_parameters", "this issuer does not encrypt credential responses")
        identifier = body.get("credential_identifier")
        configuration = body.get("credential_configuration_id")
        granted = row["identifiers_granted"]
        if identifier is not None and configuration is not None:
            raise invalid_credential_request(f"send {_what_to_send(row)}, not both credential_identifier and credential_configuration_id (§8.2)")
        # §8.2: credential_identifier "MUST NOT be used" unless the token response returned
        # authorization_details: no wallet can know an identifier it was not given, so one sent
        # with such a token is refused. credential_configuration_id "MUST NOT be used" once it
        # returned credential_identifiers (§8.2 binds the wallet), yet the node takes it when it
        # names this token's one configuration: the OpenWallet Foundation client (every version)
        # and Sphereon's (0.20) can send nothing else, the token names one offer, so the request
        # is as unambiguous as with the identifier. A token redeemed before the node recorded
        # which (granted NULL: before oid4vci.0003, or by an older vcnode during a rolling
        # upgrade) takes either, as the node that gave it did.
        if granted == 0 and identifier is not None:
            raise invalid_credential_request(
                f"the token response named no credential_identifiers (the token request had no authorization_details), so "
                f"credential_identifier must not be used: send {_what_to_send(row)} (§8.2)"
            )
        if identifier is not None:
            # The token response named the offer's id when the token request had
            # authorization_details (§6.2); it names this token's offer and no other's.
            if identifier != row["id"]:
                raise OAuthError(
                    "unknown_credential_identifier",
                    "the credential_identifier is not one the token response named for this access token",
                )
            configuration = row["configuration_id"]
        if not isinstance(configuration, str) or not configuration:
            raise invalid_credential_request(f"name the credential: send {_what_to_send(row)} (§8.2)")
        if configuration != row["configuration_id"]:
            try:
                await self.achievements.get(issuer_name, configuration)
            except UnknownAchievementError:
                raise OAuthError("unknown_credential_configuration", f"this issuer has no credential configuration {configuration!r}") from None
            raise OAuthError(
                "insufficient_scope", f"the access token is for {row['configuration_id']!r}, not {configuration!r}", status=403, bearer=True
            )
        proof = self._one_jwt_proof(body)
        if row["claimed"] is not None:
            raise OAuthError("credential_request_denied", "the credential of this offer was issued already")
        urls = self.urls(issuer_name)
        key_proof = await verify_key_proof(
            proof, audience=urls.identifier, now=self.clock(), resolver=self.resolver, max_age_seconds=self.nonce_ttl
        )
        if key_proof.nonce is None:
            raise invalid_proof("the proof must carry a c_nonce from the nonce endpoint (nonce)")
        when = utcnow_iso(self.clock())
        async with self.db.transaction() as tx:
            if not await table.consume_nonce(tx, _nonce_key(issuer_name, key_proof.nonce), when):
                raise invalid_nonce("the proof's nonce is unknown, used or expired; get a fresh one from the nonce endpoint")
        async with self.db.transaction() as tx:
            if not await table.claim(tx, row["id"], holder=key_proof.holder, now=when):
                raise OAuthError("credential_request_denied", "the credential of this offer was issued already")
        return await self._issue_claimed(issuer_name, row, key_proof.holder)

    def _one_jwt_proof(self, body: Mapping[str, Any]) -> str:
        """The one ``jwt`` key proof of ``proofs`` (1.0), or of the drafts' single ``proof``."""
        proofs, legacy = body.get("proofs"), body.get("proof")
        if proofs is not None and legacy is not None:
            raise invalid_credential_request("send proofs, not both proofs and proof")
        if proofs is None and legacy is None:
            raise invalid_proof("proofs is required: a jwt key proof of the wallet's key (§8.2)")
        if legacy is not None:
            if not isinstance(legacy, dict) or legacy.get("proof_type") != "jwt":
                raise invalid_proof("this issuer accepts jwt key proofs only")
            return legacy.get("jwt")  # type: ignore[no-any-return]
        if not isinstance(proofs, dict) or len(proofs) != 1:
            raise invalid_proof("proofs must hold exactly one proof type")
        kind, values = next(iter(proofs.items()))
        if kind != "jwt":
            raise invalid_proof(f"this issuer accepts jwt key proofs, not {kind!r}")
        if not isinstance(values, list) or not values:
            raise invalid_proof("proofs.jwt must be a non-empty array of JWTs")
        if len(values) > 1:
            raise invalid_credential_request("one key proof per request: this issuer does not offer batch issuance")
        return values[0]  # type: ignore[no-any-return]

    async def _issue_claimed(self, issuer_name: str, row: Row, holder: str) -> JsonObject:
        request = json.loads(row["request"]) if row["request"] else None
        if request is None:  # cleared: the offer had become unusable before it was claimed
            await self._release(row["id"])
            raise OAuthError("credential_request_denied", "the credential offer is no longer usable")
        request["learner"] = {**(request.get("learner") or {}), "id": holder}
        try:
            outcome = await self.achievements.issue(issuer_name, [request])
        except (ProfileError, InvalidRequestError) as e:
            await self._release(row["id"])
            raise OAuthError("credential_request_denied", f"the credential cannot be issued: {e}") from None
        except ProblemError as e:
            await self._release(row["id"])
            if e.http_status >= 500:
                raise
            # §8.3.1.2: a request the issuer does not accept is credential_request_denied, 400
            # in application/json, whatever the reason (the award's idempotency key taken by
            # another request, the issuer's key retired while signing): never the node's
            # problem+json, which no wallet reads. The detail may name another credential of
            # the issuer, so the wallet gets the title and the operator the log line.
            log.warning("offer %s of issuer %r: not issued: %s", row["id"], issuer_name, e.detail)
            raise OAuthError("credential_request_denied", f"the credential cannot be issued: {e.title}") from None
        except BaseException:
            await self._release(row["id"])
            raise
        issued = outcome.issued[0]
        if issued.replayed or issued.credential is None:
            await self._release(row["id"])
            raise OAuthError("credential_request_denied", "this award was issued already under its idempotency key")
        async with self.db.transaction() as tx:
            await table.complete(tx, row["id"], issued.credential_id)
        return {"credentials": [{"credential": issued.credential}], "notification_id": row["id"]}

    async def _release(self, offer_id: str) -> None:
        async with self.db.transaction() as tx:
            await table.release(tx, offer_id)

    # --- notification endpoint ------------------------------------------------------------

    async def notify(self, issuer_name: str, authorization: str | None, body: Any) -> None:
        """A notification (§11): what the wallet did with the credential, recorded on the offer."""
        await self.issuers.get(issuer_name)
        row = await self.offer_for_token(issuer_name, authorization)
        if not isinstance(body, dict):
            raise OAuthError("invalid_notification_request", "the notification must be a JSON object")
        event = body.get("event")
        description = body.get("event_description")
        if event not in NOTIFICATION_EVENTS:
            raise OAuthError("invalid_notification_request", f"event must be one of {', '.join(NOTIFICATION_EVENTS)}")
        if description is not None and (not isinstance(description, str) or not description.isascii()):
            raise OAuthError("invalid_notification_request", "event_description must be ASCII text")
        if body.get("notification_id") != row["id"] or row["credential_id"] is None:
            raise OAuthError("invalid_notification_id", "no credential was issued under that notification_id with this token")
        async with self.db.transaction() as tx:
            await table.notify(tx, row["id"], event, utcnow_iso(self.clock()))

