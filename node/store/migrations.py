"""The schema, as one ordered list of named migrations, written once for every backend.

A migration is applied once, in list order, inside its own write transaction, and recorded by
name in ``schema_migrations``; opening a store applies those not recorded yet. Names are
forever: a data folder records them, so a migration is never renamed, reordered or edited
once released. To change the schema, append a new one to ``MIGRATIONS``.

A step is portable SQL, in which ``{blob}`` (raw bytes) and ``{auto_id}`` (an integer primary
key the database numbers) become the backend's own types (``Dialect``); or, where a statement
cannot be portable, a mapping from dialect name to that dialect's statement (``None``: nothing
to do there; the key ``"*"``: every other dialect).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence, Union

from node.store.base import Database, Dialect, StoreError, StoreUnavailable, utcnow_iso

log = logging.getLogger(__name__)

Step = Union[str, Mapping[str, Union[str, None]]]

# node.0002 moved pre-chunk lists in pieces of this size; status_lists.py's CHUNK_BYTES must
# never differ from it (chunk i holds bytes [i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)).
_CHUNK_BYTES = 16 * 1024


@dataclass(frozen=True)
class Migration:
    name: str  # unique and permanent, e.g. "node.0001_initial"
    steps: tuple[Step, ...]  # run in order, inside one transaction

    def statements(self, dialect: Dialect) -> list[str]:
        out = []
        for step in self.steps:
            if not isinstance(step, str):
                chosen = step[dialect.name] if dialect.name in step else step.get("*")
                if chosen is None:
                    continue
                step = chosen
            out.append(step.replace("{blob}", dialect.blob).replace("{auto_id}", dialect.auto_id))
        return out


INITIAL = Migration(
    "node.0001_initial",
    (
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # One Ed25519 key per issuer; its DIDs (did:key, did:web) are derived, not stored,
        # because did:web follows the node's configured base URL.
        """CREATE TABLE issuers (
            name TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            status_purposes TEXT NOT NULL DEFAULT '["revocation"]',
            public_key_multibase TEXT NOT NULL,
            sealed_secret {blob} NOT NULL
        )""",
        """CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            scopes TEXT NOT NULL,
            issuer TEXT REFERENCES issuers(name),
            created TEXT NOT NULL,
            revoked TEXT
        )""",
        """CREATE TABLE challenges (
            challenge TEXT PRIMARY KEY,
            expires TEXT NOT NULL,
            used TEXT
        )""",
        # status: active | revoked | suspended. What an operator needs to find a credential and
        # change its status; the credential itself (personal data) is not kept.
        """CREATE TABLE credentials (
            id TEXT PRIMARY KEY,
            issuer TEXT NOT NULL REFERENCES issuers(name),
            subject_id TEXT,
            issued TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active',
            status_changed TEXT
        )""",
        "CREATE INDEX credentials_by_issuer ON credentials(issuer, issued)",
        "CREATE INDEX credentials_by_subject ON credentials(subject_id)",
        # bits: the published statuses; used: every index ever handed out (status.allocate
        # UsedBitmap), so an index is never reused. Since node.0002 both live in 16 KiB
        # chunks (status_list_chunks) and these columns stay empty.
        # "full" is quoted because PostgreSQL reserves the word (SQLite makes the same column of
        # it, so stores created before the quotes are unchanged).
        # version counts bit changes; a list is re-signed until published_version catches up
        # (also after a crash, at start-up).
        """CREATE TABLE status_lists (
            id {auto_id},
            issuer TEXT NOT NULL REFERENCES issuers(name),
            purpose TEXT NOT NULL,
            seq INTEGER NOT NULL,
            length INTEGER NOT NULL,
            bits {blob} NOT NULL,
            used {blob} NOT NULL,
            used_count INTEGER NOT NULL DEFAULT 0,
            "full" INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1,
            published_version INTEGER NOT NULL DEFAULT 0,
            credential TEXT,
            etag TEXT,
            published TEXT,
            UNIQUE (issuer, purpose, seq)
        )""",
        # One row per handed-out index. credential_id is NULL when issuance never completed:
        # the index stays used (never reused) but belongs to nobody.
        """CREATE TABLE status_entries (
            list_id INTEGER NOT NULL REFERENCES status_lists(id),
            idx INTEGER NOT NULL,
            credential_id TEXT REFERENCES credentials(id),
            purpose TEXT NOT NULL,
            allocated TEXT NOT NULL,
            PRIMARY KEY (list_id, idx)
        )""",
        "CREATE INDEX status_entries_by_credential ON status_entries(credential_id)",
    ),
)

STATUS_LIST_CHUNKS = Migration(
    "node.0002_status_list_chunks",
    (
        """CREATE TABLE status_list_chunks (
            list_id INTEGER NOT NULL REFERENCES status_lists(id),
            kind TEXT NOT NULL CHECK (kind IN ('bits', 'used')),
            chunk INTEGER NOT NULL,
            data {blob} NOT NULL,
            PRIMARY KEY (list_id, kind, chunk)
        )""",
        # Move lists written before chunking; status_lists.bits/used are left empty from here on.
        # Only SQLite stores predate chunking: elsewhere there is nothing to move.
        {
            "sqlite": f"""INSERT INTO status_list_chunks (list_id, kind, chunk, data)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4095)
            SELECT l.id, k.kind, n.i, substr(CASE k.kind WHEN 'bits' THEN l.bits ELSE l.used END, n.i * {_CHUNK_BYTES} + 1, {_CHUNK_BYTES})
            FROM status_lists l JOIN (SELECT 'bits' AS kind UNION ALL SELECT 'used') k JOIN n
            ON n.i * {_CHUNK_BYTES} < length(CASE k.kind WHEN 'bits' THEN l.bits ELSE l.used END)""",
            "*": None,
        },
        {"sqlite": "UPDATE status_lists SET bits = x'', used = x''", "*": None},
    ),
)

ACHIEVEMENTS = Migration(
    "microcredentials.0001_achievements",
    (
        # definition: the achievement's JSON form (vc.edu.model) plus its awardingBody.
        # Definitions are never changed once stored: issued credentials describe them.
        """CREATE TABLE achievements (
            issuer TEXT NOT NULL REFERENCES issuers(name),
            slug TEXT NOT NULL,
            created TEXT NOT NULL,
            definition TEXT NOT NULL,
            PRIMARY KEY (issuer, slug)
        )""",
        """CREATE TABLE microcredential_keys (
            issuer TEXT NOT NULL REFERENCES issuers(name),
            idempotency_key TEXT NOT NULL,
            credential_id TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (issuer, idempotency_key)
        )""",
    ),
)

TRUST = Migration(
    "trust.0001_trusted_bodies_and_held_accreditations",
    (
        # Verifier side: the roots of trust. A DID here ends an accreditation chain.
        """CREATE TABLE trusted_bodies (
            did TEXT PRIMARY KEY,
            label TEXT,
            added TEXT NOT NULL
        )""",
        # Holder side: accreditation credentials an issuer of this node received, published
        # verbatim (a verifier checks their proofs), so the whole signed body is kept.
        """CREATE TABLE held_accreditations (
            issuer TEXT NOT NULL REFERENCES issuers(name),
            credential_id TEXT NOT NULL,
            accrediting_agent TEXT NOT NULL,
            stored TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (issuer, credential_id)
        )""",
    ),
)

# Trusted bodies are listed in the order they were added; `added` has one-second resolution,
# and the order within a second was SQLite's rowid, which other backends do not have.
TRUSTED_BODY_ORDER = Migration(
    "trust.0002_trusted_body_position",
    (
        "ALTER TABLE trusted_bodies ADD COLUMN position INTEGER",
        {
            "sqlite": "UPDATE trusted_bodies SET position = rowid",
            "*": """UPDATE trusted_bodies SET position = (SELECT COUNT(*) FROM trusted_bodies t
                WHERE t.added < trusted_bodies.added OR (t.added = trusted_bodies.added AND t.did <= trusted_bodies.did))""",
        },
    ),
)

OID4VCI = Migration(
    "oid4vci.0001_offers_and_nonces",
    (
        # One row per credential offer (OpenID4VCI pre-authorized code flow). Codes and tokens
        # are kept as SHA-256 hashes only; the transaction code's hash is salted with the
        # pre-authorized code, which the store never sees. `request` is the award (personal
        # data): cleared once the credential is issued or the offer can no longer be used.
        # redeemed: the code was exchanged for the token (once); claimed: the credential
        # endpoint took the offer (once); credential_id: what it issued.
        """CREATE TABLE oid4vci_offers (
            id TEXT PRIMARY KEY,
            issuer TEXT NOT NULL REFERENCES issuers(name),
            configuration_id TEXT NOT NULL,
            request TEXT,
            code_hash TEXT NOT NULL UNIQUE,
            tx_code_hash TEXT,
            tx_failures INTEGER NOT NULL DEFAULT 0,
            created TEXT NOT NULL,
            expires TEXT NOT NULL,
            token_hash TEXT UNIQUE,
            token_expires TEXT,
            redeemed TEXT,
            claimed TEXT,
            holder TEXT,
            credential_id TEXT,
            notification_event TEXT,
            notified TEXT
        )""",
        "CREATE INDEX oid4vci_offers_by_issuer ON oid4vci_offers(issuer, created)",
        # c_nonce values handed out by the nonce endpoint: each accepted once, until it expires.
        """CREATE TABLE oid4vci_nonces (
            nonce TEXT PRIMARY KEY,
            expires TEXT NOT NULL,
            used TEXT
        )""",
    ),
)

# Issue 11: a list is signed by the DID its credentials name (the issuer's did:web, as every
# list before, or its did:key), and holds entries of one size (Bitstring Status List 1.0 §2.1
# statusSize). List numbers stay unique per issuer and purpose, whoever signs.
STATUS_LIST_SIGNERS = Migration(
    "node.0003_status_list_signers_and_sizes",
    (
        # 'did:web': the issuer's did:web, derived from the base URL like the issuer's DIDs (so
        # lists follow a changed base URL); otherwise the signing DID itself (a did:key).
        "ALTER TABLE status_lists ADD COLUMN signer TEXT NOT NULL DEFAULT 'did:web'",
        "ALTER TABLE status_lists ADD COLUMN status_size INTEGER NOT NULL DEFAULT 1",
    ),
)

# Key rotation (issue 12): every key an issuer has had, with when it signed. issuers keeps
# the active key (public and sealed) as before; issuer_keys is the history, the active key
# included. A retired key loses its sealed secret (it can never sign again) and leaves the
# did:web document. key_generation counts an issuer's key changes, so a process that keeps
# issuers in memory notices another's rotation by one cheap sum. credentials.signing_key
# names the key that signed each credential (what retire-key --compromised lists).
ISSUER_KEYS = Migration(
    "keys.0001_issuer_key_history",
    (
        """CREATE TABLE issuer_keys (
            issuer TEXT NOT NULL REFERENCES issuers(name),
            public_key_multibase TEXT NOT NULL,
            sealed_secret {blob},
            activated TEXT NOT NULL,
            superseded TEXT,
            retired TEXT,
            compromised INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (issuer, public_key_multibase)
        )""",
        "CREATE INDEX issuer_keys_by_key ON issuer_keys(public_key_multibase)",
        """INSERT INTO issuer_keys (issuer, public_key_multibase, sealed_secret, activated)
            SELECT name, public_key_multibase, sealed_secret, created FROM issuers""",
        "ALTER TABLE issuers ADD COLUMN key_generation INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE credentials ADD COLUMN signing_key TEXT",
        # Until now every issuer had one key, so it signed everything the issuer issued.
        """UPDATE credentials SET signing_key = (SELECT i.public_key_multibase FROM issuers i WHERE i.name = credentials.issuer)""",
        "CREATE INDEX credentials_by_signing_key ON credentials(issuer, signing_key)",
    ),
)

# Tokens (issue 12): an optional expiry, and when each was last used (written at most once a
# minute per token and process, not on every request).
TOKEN_LIFETIME = Migration(
    "tokens.0001_expiry_and_last_use",
    (
        "ALTER TABLE tokens ADD COLUMN expires TEXT",
        "ALTER TABLE tokens ADD COLUMN last_used TEXT",
    ),
)

# PostgreSQL compresses a bytea over 2 KiB (pglz) on every write: a status-list chunk (16 KiB,
# rewritten by every allocation and status change) cost ~1.15 ms of server CPU that way, against
# ~0.25 ms stored as it is (bench/bench_replicas.py, docs/scaling.md). The chunks are small and
# few (two per 131,072 entries), so space does not matter; SQLite never compresses.
CHUNK_STORAGE = Migration(
    "postgres.0001_status_list_chunks_uncompressed",
    ({"postgresql": "ALTER TABLE status_list_chunks ALTER COLUMN data SET STORAGE EXTERNAL", "*": None},),
)

# Issue 12.3 / 14.1: the node keeps what it issued, so a lost response, a replayed idempotency
# key or an interrupted `vcnode issue-batch` can be answered with the credential itself. A body
# is personal data: it lives in its own table (purged alone, the status record staying), and
# credentials.body_purged says when it was erased. journal = 1: kept only until a batch's
# output file holds it (keep_credentials off); journal = 0: kept (keep_credentials on, until
# retention_days or `vcnode credentials purge`).
CREDENTIAL_BODIES = Migration(
    "credentials.0001_kept_bodies",
    (
        """CREATE TABLE credential_bodies (
            credential_id TEXT PRIMARY KEY REFERENCES credentials(id),
            issuer TEXT NOT NULL REFERENCES issuers(name),
            stored TEXT NOT NULL,
            journal INTEGER NOT NULL DEFAULT 0,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX credential_bodies_by_stored ON credential_bodies(stored)",
        "ALTER TABLE credentials ADD COLUMN body_purged TEXT",
    ),
)

# An offer's idempotency key in a column of its own, so that making an offer can find a live
# offer holding the same key by an index rather than by reading every offer of the issuer
# (issue-batch --offers makes one per row: a cohort's file read the table once a row). Like
# the award it comes from, it is dropped once the offer can no longer issue.
OID4VCI_OFFER_KEYS = Migration(
    "oid4vci.0002_offer_idempotency_keys",
    (
        "ALTER TABLE oid4vci_offers ADD COLUMN idempotency_key TEXT",
        {
            "sqlite": "UPDATE oid4vci_offers SET idempotency_key = json_extract(request, '$.idempotencyKey') WHERE request IS NOT NULL",
            # jsonb holds no U+0000: an award holding one (escaped \u0000 in its JSON text) would
            # stop the migration, so its key stays unknown to the check (as before this one).
            "postgresql": "UPDATE oid4vci_offers SET idempotency_key = (request::jsonb) ->> 'idempotencyKey' "
            "WHERE request IS NOT NULL AND position('\\u0000' in request) = 0",
        },
        "CREATE INDEX oid4vci_offers_by_key ON oid4vci_offers(issuer, idempotency_key)",
    ),
)

# OpenID4VCI 1.0 §8.2: a credential request names its credential by credential_identifier when
# the token response returned authorization_details (credential_identifiers), and by
# credential_configuration_id otherwise, never the other one. The token endpoint records which
# at redemption: 1 (identifiers returned) or 0. No backfill: a row redeemed before this
# migration, or by an older vcnode serving the store during a rolling upgrade, stays NULL
# ("not recorded"), and the credential endpoint accepts either for it, as that vcnode told its
# wallet it would; such a token lives five minutes at most (oid4vci_token_ttl_seconds).
OID4VCI_TOKEN_IDENTIFIERS = Migration(
    "oid4vci.0003_token_credential_identifiers",
    ("ALTER TABLE oid4vci_offers ADD COLUMN identifiers_granted INTEGER",),
)

MIGRATIONS: tuple[Migration, ...] = (
    INITIAL,
    STATUS_LIST_CHUNKS,
    ACHIEVEMENTS,
    TRUST,
    TRUSTED_BODY_ORDER,
    OID4VCI,
    STATUS_LIST_SIGNERS,
    ISSUER_KEYS,
    TOKEN_LIFETIME,
    CHUNK_STORAGE,
    CREDENTIAL_BODIES,
    OID4VCI_OFFER_KEYS,
    OID4VCI_TOKEN_IDENTIFIERS,
)


async def migrate(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Apply the migrations not recorded yet, in order; the names applied now.

    Each runs in its own write transaction and is checked for inside it, so processes opening
    one store at once apply each migration exactly once. A failing migration is rolled back
    whole (``StoreError`` naming it) and the later ones are not tried.
    """
    names = [m.name for m in migrations]
    if len(set(names)) != len(names):
        raise StoreError(f"migration names must be unique: {names}")
    if await _all_recorded(db, names):  # refuses a store with migrations ``names`` lacks
        # The usual opening (every process of a node, every replica, each worker after the
        # fork): nothing to apply, so no write lock is taken. A store that is locked, full or
        # read-only at that moment still opens and serves what it holds.
        return []
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    applied_now: list[str] = []
    for migration in migrations:
        async with db.transaction() as tx:
            if await tx.fetchone("SELECT 1 FROM schema_migrations WHERE name = ?", (migration.name,)) is not None:
                continue
            try:
                for statement in migration.statements(db.dialect):
                    await tx.execute(statement)
            except Exception as e:
                raise StoreError(f"migration {migration.name} failed: {e}") from e
            await tx.execute(
                "INSERT INTO schema_migrations (name, applied) VALUES (?, ?)",
                (migration.name, utcnow_iso(datetime.now(timezone.utc))),
            )
        applied_now.append(migration.name)
        log.info("applied migration %s", migration.name)
    return applied_now


async def _all_recorded(db: Database, names: Sequence[str]) -> bool:
    try:
        async with db.read() as tx:
            rows = await tx.fetchall("SELECT name FROM schema_migrations")
    except StoreUnavailable:
        raise
    except Exception:  # a new store: no schema_migrations yet (each driver says so its own way)
        return False
    recorded = {r["name"] for r in rows}
    check_known(recorded, names)
    return set(names) <= recorded


def unknown_migrations(recorded: Iterable[str], names: Iterable[str]) -> list[str]:
    """The migrations a store records that are not among ``names``: a newer vcnode's."""
    known = set(names)
    return sorted(name for name in recorded if name not in known)


def check_known(recorded: Iterable[str], names: Iterable[str]) -> None:
    """Refuse (``StoreError``) a store a newer vcnode migrated when this version would apply
    migrations of its own over the newer ones. When it has none to apply, it opens the store as
    the replicas of a rolling upgrade do (docs/scaling.md, "Upgrading": the older ones serve on
    while the newer take over, migrations being additive), and says so at WARNING: on one
    machine, such an opening is a rollback (docs/operations.md, "Upgrading")."""
    recorded = set(recorded)
    names = list(names)
    unknown = unknown_migrations(recorded, names)
    if not unknown:
        return
    if set(names) - recorded:
        raise StoreError(
            f"this store was made by a newer vcnode: it has {', '.join(unknown)}, and this version would apply "
            "its own migrations over them; upgrade vcnode, or restore a backup made by this version"
        )
    log.warning(
        "this store was migrated by a newer vcnode (it has %s); this version serves it, as during a rolling upgrade. "
        "Finish the upgrade: an older version is not meant to run on it for long", ", ".join(unknown),
    )


async def applied(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """The names recorded, in the order of ``migrations`` (names it does not know last)."""
    async with db.read() as tx:
        rows = await tx.fetchall("SELECT name FROM schema_migrations")
    order = {m.name: i for i, m in enumerate(migrations)}
    return sorted((r["name"] for r in rows), key=lambda name: (order.get(name, len(order)), name))


async def schema_version(db: Database) -> int:
    """The number of migrations applied: a cheap round trip, so also the store's health probe.
    ``StoreUnavailable`` when the store does not answer it, whatever the backend's error."""
    try:
        async with db.read() as tx:
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM schema_migrations")
    except Exception as e:  # a closed connection, an unreadable file, a lost server
        log.warning("the store does not answer: %r", e)
        raise StoreUnavailable(type(e).__name__) from e
    return int(row["n"]) if row is not None else 0
