"""The fast JSON-LD canonicalization path: pyld with working context caches, and RDFC-1.0
for the common case.

Why this exists (issue 3, "Speed"): with pyld 3.3, canonicalizing an Open Badges 3.0
credential spends most of its time processing the same JSON-LD contexts again on every call:

* a remote context is only cached across calls when the loader tags it ``static``, and inline
  (scoped) contexts are cache-keyed by a pure-Python JCS serialization on every use;
* the child active context made for a type-scoped context (``propagate=False``) gets a fresh
  random ``_uuid`` on every call, so its processed-context cache never hits and the OB3 scoped
  contexts (about 80 term definitions each) are processed again every time.

``FastContextMixin`` fixes both without touching pyld's global state: the caches live in a
``ContextCache`` the caller owns (one per document loader), and the child active context gets a
deterministic id derived from its parent's, which is sound because the child is a pure function
of the parent. Everything else is pyld's own code path.

``canonize_expanded`` / ``canonize_dataset`` are RDFC-1.0 (W3C RDF Dataset Canonicalization,
§4.4) for datasets whose blank nodes are all told apart by their first-degree hashes (§4.6) —
every credential we have seen. Then the canonical labels are simply the first-degree hashes'
sorted order (§4.4.3 step 5) and the N-degree algorithm never runs. Any other dataset goes to
the full algorithm (``RDFC10``: pyld's URDNA2015 with canonical N-Quads escaping, or whatever
``fallback`` the caller passes). tests/vc/test_fast_canon.py holds the output byte-identical to
pyld's expansion + ``RDFC10`` on every vector and a randomized corpus, and ``RDFC10`` identical to
pyld's URDNA2015 wherever pyld's escaping is already canonical (see "canonical N-Quads escaping").

Only ``vc.jsonld`` should use this module; it is the other importer of pyld.

**The fence.** This is the one module that reaches into pyld's internals (private methods it
overrides or calls, attributes it reads), so pyld may be any 3.x release only while those stay
as they were written against (3.3). ``PYLD_INTERNALS`` lists every one of them, including the
hooks ``vc.jsonld``'s plain path overrides for safe mode and RDFC-1.0's work limits;
``check_pyld()`` compares them with the installed pyld, and ``fence()`` (once per process, at
first use) does that and canonicalizes a few probe documents on both paths. When the fast path's
own internals changed, or its output differs, ``vc.jsonld`` uses plain pyld (same bytes, about
ten times slower) and one warning is logged; when the plain path's hooks changed too, JSON-LD
processing is refused (PROOF_TRANSFORMATION_ERROR) rather than done without safe mode.
tests/vc/test_pyld_fence.py fails, naming what changed, on any pyld whose internals moved.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import inspect
import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable

from frozendict import frozendict
from pyld import jsonld as _pyld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver
from pyld.nquads import parse_nquads

try:  # used by the fast path only: without them it is unavailable (see the fence), not broken
    from pyld.identifier_issuer import IdentifierIssuer
    from pyld.resolved_context import ResolvedContext
except ImportError:  # pragma: no cover - a pyld without these modules fails check_pyld()
    IdentifierIssuer = ResolvedContext = None  # type: ignore[assignment,misc]

from did.cache import LRU, FrozenJSON, Memo

_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDF_TYPE_TERM = "<" + _RDF_TYPE + ">"
_RDF_FIRST_TERM = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>"
_RDF_REST_TERM = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
_RDF_NIL_TERM = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"

Dataset = dict  # pyld's RDF dataset: {graph name: [{"subject", "predicate", "object"}]}


class _Pinned(dict):
    """A dict inside a context document this cache loaded and owns.

    Nobody else holds a reference to it and nothing mutates it, so the resolver may key it by
    identity instead of serializing it on every use. Callers' inline contexts are plain dicts
    and are keyed by value, since a caller may change them between calls.
    """

    __slots__ = ()


def _pin(value: Any) -> Any:
    if isinstance(value, (dict, frozendict)):
        return _Pinned((k, _pin(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_pin(v) for v in value]
    return value


_ABSOLUTE: Memo = Memo(16384)  # sized with _IRI_MEMO_MAX (see there)


def _absolute_iri(value: str) -> bool:
    """pyld's ``_is_absolute_iri``, remembered per string (a pure function of the string)."""
    try:
        return _ABSOLUTE[value]  # type: ignore[no-any-return]
    except KeyError:
        return _ABSOLUTE.remember(value, bool(_pyld._is_absolute_iri(value)))


def _context_key(local_ctx: Any) -> Any:
    """A key that names a local context exactly, or None: absolute URLs (the loader's pinned
    documents), lists of them, null, and dicts inside contexts this cache loaded (by identity).
    A caller's own inline dict gets None: it may change between calls."""
    if local_ctx is None:
        return ("null",)
    if type(local_ctx) is str:
        return ("url", local_ctx) if _absolute_iri(local_ctx) else None
    if isinstance(local_ctx, _Pinned):
        return ("pinned", id(local_ctx))
    if type(local_ctx) is list and all(type(c) is str and _absolute_iri(c) for c in local_ctx):
        return ("urls", tuple(local_ctx))
    return None


class _CachingResolver(ContextResolver):
    """pyld's ContextResolver, with a cache that outlives one operation.

    pyld keeps a resolver per operation; this one is shared by every operation on one
    ``ContextCache``, so resolved contexts (and the processed contexts cached on them) persist.
    Keys: an absolute context URL as given; a pinned dict by identity; any other dict by its
    sorted JSON serialization (C speed; injective on JSON values, which is all a key needs).
    """

    def __init__(self, document_loader: Callable, maxsize: int) -> None:
        super().__init__({}, document_loader)
        # pyld's per-operation cache becomes the persistent one; nothing is shared globally.
        self.per_op_cache = LRU(maxsize)
        self.shared_cache = LRU(maxsize)
        self._by_identity: LRU[int, tuple[Any, Any]] = LRU(maxsize)

    def resolve(self, active_ctx, context, base, cycles=None):
        if isinstance(context, (dict, frozendict)) and "@context" in context:
            context = context["@context"]
        contexts = context if isinstance(context, list) else [context]
        out = []
        for ctx in contexts:
            if isinstance(ctx, _Pinned):
                hit = self._by_identity.get(id(ctx))
                if hit is None or hit[0] is not ctx:
                    # the pinned dict is kept alive by the entry, so its id cannot be reused
                    hit = (ctx, super().resolve(active_ctx, ctx, base, cycles))
                    self._by_identity[id(ctx)] = hit
                out.extend(hit[1])
            elif isinstance(ctx, dict):
                try:
                    key = json.dumps(ctx, sort_keys=True, ensure_ascii=False)
                except (TypeError, ValueError):  # not plain JSON: let pyld key it
                    out.extend(super().resolve(active_ctx, ctx, base, cycles))
                    continue
                resolved = self.per_op_cache.get(key)
                if resolved is None:
                    resolved = ResolvedContext(ctx)
                    # a huge inline context (hostile input) is processed, never kept
                    if len(key) <= _MAX_CACHED_INLINE_CONTEXT:
                        self.per_op_cache[key] = resolved
                out.append(resolved)
            elif isinstance(ctx, str) and not _pyld._is_absolute_iri(ctx):
                # a relative URL depends on the base: never cache it across operations
                out.extend(ContextResolver(LRU(64), self.document_loader).resolve(
                    active_ctx, ctx, base, cycles))
            else:
                out.extend(super().resolve(active_ctx, ctx, base, cycles))
        return out

    def _fetch_context(self, active_ctx, url, cycles):
        context, remote_doc = super()._fetch_context(active_ctx, url, cycles)
        # Own the context's objects: a private copy that neither the loader nor a caller can
        # change, so it may be cached by URL and its inner dicts keyed by identity.
        return _pin(context), remote_doc


class FastContextMixin:
    """Overrides for a ``pyld.jsonld.JsonLdProcessor`` (sub)class; see the module docstring.

    A mixin, so it composes with any processor subclass (e.g. one adding safe-mode checks):
    ``class P(FastContextMixin, SomeProcessor)``. Use it only with ``ContextCache.options``.
    """

    def __init__(self, *args: Any, iri_memo: Memo | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # shared by the processors of one ContextCache (see ContextCache.processor)
        self._iri_memo: Memo = Memo(_IRI_MEMO_MAX) if iri_memo is None else iri_memo

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False,
                         propagate=True, validate_scoped=True, cycles=None):
        cache: ContextCache | None = options.get("fastContextCache")
        # Whole-call memo: a frozen active context (named by its _uuid) plus a context we can
        # name exactly (URLs, or a dict inside a context we loaded) always gives the same
        # frozen result; pyld would find it too, through several layers of its caches.
        key = None
        if cache is not None and cycles is None and type(active_ctx) is frozendict and "_uuid" in active_ctx:
            ctx_key = _context_key(local_ctx)
            if ctx_key is not None:
                key = (active_ctx["_uuid"], ctx_key, override_protected, propagate, validate_scoped,
                       options.get("base"), options.get("processingMode"))
                hit = cache.process_memo.get(key)
                if hit is not None and (hit[0] is local_ctx or not isinstance(local_ctx, _Pinned)):
                    return hit[1]
        original = active_ctx
        if not propagate and not active_ctx.get("previousContext") and "_uuid" in active_ctx:
            child = self._non_propagating_child(active_ctx, local_ctx, options)
            if child is not None:
                # pyld would make this very child itself (clone + previousContext), but with a
                # random id; given ours, its processed-context cache can hit.
                active_ctx = child
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected=override_protected,
            propagate=propagate, validate_scoped=validate_scoped, cycles=cycles)
        if key is not None and type(result) is frozendict and result is not original:
            # the entry holds local_ctx, so a pinned dict's id cannot be reused while cached
            cache.process_memo[key] = (local_ctx, result)
        return result

    def expand(self, input_, options):
        """pyld's ``expand`` for an in-memory document, minus its ``copy.deepcopy`` of the input
        (a tenth of the time). Expansion only reads the input, and builds new objects for the
        output (the one thing it shares is an ``@json`` literal's raw JSON, which nothing
        downstream changes); the copy is pyld's guard for documents its loader caches. The
        differential tests check that the caller's document is left as it was.
        Anything else (a URL, an expandContext) takes pyld's own path."""
        if not isinstance(input_, dict) or "expandContext" in options:
            return super().expand(input_, options)
        options = {"isFrame": False, "keepFreeFloatingNodes": False, "extractAllScripts": False,
                   "processingMode": "json-ld-1.1", "base": "", **options}
        active_ctx = self._get_initial_context(options)
        expanded = self._expand(active_ctx, None, input_, options, inside_list=False)
        if isinstance(expanded, (dict, frozendict)) and "@graph" in expanded and len(expanded) == 1:
            expanded = expanded["@graph"]
        elif expanded is None:
            expanded = []
        return _pyld.JsonLdProcessor.arrayify(expanded)

    def _expand(self, active_ctx, active_property, element, options, inside_list=False,
                inside_index=False, type_scoped_ctx=None):
        # A small nested node object's expansion depends only on the (frozen, _uuid-named)
        # active context, its property, its exact JSON and the options, so it is remembered:
        # a verifier sees the same issuer profile and achievement in credential after credential.
        # Only objects at most _SUBTREE_DEPTH containers deep qualify (so a document's text is
        # serialized at most a few times over, whatever its shape): an EU micro-credential's
        # achievement (its alignments, and the allowed values of its assessment) is four deep,
        # and the same in every credential of a course. It is kept frozen (did.cache.FrozenJSON)
        # and each hit thaws a copy, because pyld's node map rewrites expanded objects in place.
        # The dropped-property hook runs on a miss only: vc.jsonld's raises, so a refused object
        # never gets here as a result. Where the objects of one property under one context never
        # come back (a learner's credentialSubject), they are soon not serialized at all
        # (_Usefulness).
        cache: ContextCache | None = options.get("fastContextCache")
        if (cache is None or type(element) is not dict or type(active_property) is not str
                or inside_index or type_scoped_ctx is not None or type(active_ctx) is not frozendict
                or "_uuid" not in active_ctx):
            return super()._expand(active_ctx, active_property, element, options, inside_list,
                                   inside_index, type_scoped_ctx)
        uses = cache.subtree_use
        use_key = (active_ctx["_uuid"], active_property)
        use = uses.get(use_key)
        if use is None:
            if len(uses) >= _USES_MAX:  # contexts made up by documents: kept bounded
                uses.clear()
            use = uses[use_key] = _Usefulness()
        if not use.worth_trying() or not _shallow(element, _SUBTREE_DEPTH):
            return super()._expand(active_ctx, active_property, element, options, inside_list,
                                   inside_index, type_scoped_ctx)
        try:
            text = json.dumps(element, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            text = None
        if text is None or len(text) > _MAX_SUBTREE_TEXT:
            return super()._expand(active_ctx, active_property, element, options, inside_list,
                                   inside_index, type_scoped_ctx)
        key = (active_ctx["_uuid"], active_property, inside_list, options.get("base"),
               bool(options.get("isFrame")), bool(options.get("keepFreeFloatingNodes")),
               options.get("processingMode"), self.on_property_dropped, text)
        hit = cache.subtrees.get(key)
        use.tries += 1
        if hit is not None:
            use.hits += 1
            return hit.thaw()
        result = super()._expand(active_ctx, active_property, element, options, inside_list,
                                 inside_index, type_scoped_ctx)
        if result is not None:
            # Kept when seen a second time: an object met once (a learner's subject, new in
            # every credential) would cost its freezing and push out what does come back.
            sighting = hash(key)
            if cache.sighted.get(sighting) is None:
                cache.sighted[sighting] = True
            else:
                try:
                    cache.subtrees[key] = FrozenJSON(result)
                except ValueError:  # not plain JSON (cannot happen for parsed input): not kept
                    pass
        return result

    def _expand_value(self, active_ctx, active_property, value, options):
        # A scalar's expansion depends only on the (frozen, _uuid-named) active context, the
        # property, the value and the base; remembered like _expand_iri. A copy is returned
        # because pyld's node map relabels value objects in place.
        kind = type(value)
        if (kind is str or kind is int or kind is bool) and type(active_ctx) is frozendict \
                and type(active_property) is str and "_uuid" in active_ctx:
            key = ("v", active_ctx["_uuid"], active_property, kind, value, options.get("base"))
            memo = self._iri_memo
            try:
                result = memo[key]
            except KeyError:
                result = memo.remember(key, super()._expand_value(active_ctx, active_property, value, options))
            return dict(result) if type(result) is dict else result
        return super()._expand_value(active_ctx, active_property, value, options)

    def _graph_to_rdf(self, graph, issuer, options):
        """pyld's ``_graph_to_rdf`` with its per-item regex checks done once per string.

        Same triples in the same order; pyld checks ``_is_absolute_iri`` for the subject and
        the predicate of every single value.
        """
        triples: list = []
        absolute = _absolute_iri
        for id_, node in sorted(graph.items()):
            subject_ok = absolute(id_)
            for prop, items in sorted(node.items()):
                if prop == "@type":
                    prop = _RDF_TYPE
                elif _pyld._is_keyword(prop):
                    continue
                # skip relative IRI subjects and predicates
                if not (subject_ok and absolute(prop)):
                    continue
                if prop.startswith("_:") and not options["produceGeneralizedRdf"]:
                    continue  # blank node predicates only in generalized RDF
                for item in items:
                    subject = {"type": "blank node" if id_.startswith("_:") else "IRI", "value": id_}
                    predicate = {"type": "blank node" if prop.startswith("_:") else "IRI", "value": prop}
                    obj = self._object_to_rdf(item, issuer, triples, options)
                    # skip None objects (they are relative IRIs)
                    if obj is not None:
                        triples.append({"subject": subject, "predicate": predicate, "object": obj})
        return triples

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        # Outside context processing (no local_ctx), the result depends only on the active
        # context, the value, base and vocab. A frozen active context never changes, and its
        # _uuid names it, so the answer can be remembered on the context's own cache.
        if local_ctx is None and type(active_ctx) is frozendict and type(value) is str:
            memo = self._iri_memo
            key = (active_ctx.get("_uuid"), value, base, vocab)
            if key[0] is not None:
                try:
                    return memo[key]
                except KeyError:
                    return memo.remember(key, super()._expand_iri(active_ctx, value, base, vocab))
        return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)

    def _non_propagating_child(self, active_ctx, local_ctx, options):
        cache: ContextCache | None = options.get("fastContextCache")
        if cache is None:
            return None
        ctxs = local_ctx["@context"] if (
            isinstance(local_ctx, (dict, frozendict)) and isinstance(local_ctx.get("@context"), list)
        ) else local_ctx
        if ctxs is None or ctxs == []:
            return None
        resolved = options["contextResolver"].resolve(active_ctx, local_ctx, options.get("base", ""))
        first = resolved[0].document if resolved else None
        if isinstance(first, (dict, frozendict)) and isinstance(first.get("@propagate"), bool):
            return None  # pyld lets the context override `propagate`: keep its own path
        key = active_ctx["_uuid"]
        child = cache.children.get(key)
        if child is None or child["previousContext"] is not active_ctx:
            child = self._clone_active_context(active_ctx)
            child["previousContext"] = active_ctx
            child["_uuid"] = key + "/type-scoped"
            child = frozendict(child)
            cache.children[key] = child
        return child


class FastProcessor(FastContextMixin, _pyld.JsonLdProcessor):
    """pyld's processor with the context-cache fixes."""


# Each verified document adds its own ids, names and dates, which rarely recur; a full memo
# empties and the hot context terms come back within one document. 16,384 entries hold a few
# MiB; 65,536 held ~30 MiB of one-off values, what bench/soak.py saw as the node's memory
# growing for minutes (issue 14).
_IRI_MEMO_MAX = 16384
# Containers below a remembered node object: achievement → resultDescription → its entry →
# allowedValue → text. Two (until 2026-12-06) left a micro-credential's achievement out: signing
# one of a course's batch took 13 % longer; a miss (an achievement never seen) costs ~2 % more.
_SUBTREE_DEPTH = 4
_MAX_SUBTREE_TEXT = 8 * 1024  # characters of a remembered node object's JSON


class _Usefulness:
    """How often the objects under one property and context came back (``_expand``'s cache).

    While at least one look-up in four hits (or fewer than ``_PROBE`` were made), each object
    is serialized and looked up. Below that (objects new every time), it is not, and after
    ``_RETRY_AFTER`` objects passed by it starts counting again, in case they repeat now."""

    __slots__ = ("hits", "tries", "skipped")

    def __init__(self) -> None:
        self.hits = self.tries = self.skipped = 0

    def worth_trying(self) -> bool:
        if self.tries < _PROBE or self.hits * 4 >= self.tries:
            return True
        self.skipped += 1
        if self.skipped >= _RETRY_AFTER:
            self.hits = self.tries = self.skipped = 0
        return False


_PROBE = 16
_RETRY_AFTER = 256
_USES_MAX = 4096  # (context, property) pairs counted at once


def _shallow(value: Any, depth: int) -> bool:
    """Whether ``value`` holds no containers more than ``depth`` levels down."""
    kind = type(value)
    if kind is dict:
        items = value.values()
    elif kind is list:
        items = value
    else:
        return True
    if depth == 0:
        return False
    return all(_shallow(v, depth - 1) for v in items)
_MAX_CACHED_INLINE_CONTEXT = 64 * 1024  # characters of its JSON serialization


class ContextCache:
    """The caches of processed JSON-LD contexts for one document loader.

    Contexts a loader returns for a URL must not change while the cache lives (the node's
    loader serves pinned, hashed files). Thread-safe: one operation at a time holds the lock
    (pyld is pure Python, so the GIL would serialize the work anyway).
    """

    def __init__(self, document_loader: Callable, *, maxsize: int = 512) -> None:
        self.document_loader = document_loader
        self.resolver = _CachingResolver(document_loader, maxsize)
        self.children: LRU[Any, Any] = LRU(maxsize)
        self.iri_memo = Memo(_IRI_MEMO_MAX)
        self.process_memo: LRU[Any, Any] = LRU(maxsize * 4)
        # expanded small node objects (FastContextMixin._expand), keyed by context and JSON text
        self.subtrees: LRU[Any, FrozenJSON] = LRU(maxsize)
        # the hashes of keys expanded once: a subtree is kept from its second expansion on
        self.sighted: LRU[int, bool] = LRU(maxsize * 4)
        # per (context, property): whether its objects come back (_Usefulness); a plain dict
        # (looked up for every nested object), cleared when it reaches _USES_MAX; under the lock
        self.subtree_use: dict[tuple, _Usefulness] = {}
        # canonical forms of proof configurations, keyed by their exact JSON (see
        # vc.jsonld.canonize_proof_configuration); guarded by the lock
        self.proof_configurations: LRU[str, str] = LRU(maxsize * 2)
        self.lock = threading.RLock()

    def processor(self, cls: type = None, **kwargs: Any) -> Any:  # type: ignore[assignment]
        """A processor using this cache: ``cls`` (default FastProcessor) must include
        FastContextMixin; ``kwargs`` go to pyld (e.g. ``on_property_dropped``)."""
        return (cls or FastProcessor)(iri_memo=self.iri_memo, **kwargs)

    def options(self, **extra: Any) -> dict:
        """pyld options for an operation through this cache (hold ``lock`` while it runs)."""
        return {
            "documentLoader": self.document_loader,
            "contextResolver": self.resolver,
            "fastContextCache": self,
            "processingMode": "json-ld-1.1",
            "extractAllScripts": False,
            **extra,
        }


# --- canonical N-Quads escaping (RDFC-1.0 §4.4.3 step 7 → RDF 1.1 N-Quads, canonical form) ---------
#
# pyld writes string literals with only \\ \t \n \r \" escaped and every other character raw, and
# IRIs raw. The canonical form (and rdf-canonize, the JavaScript reference, byte for byte) escapes
# U+0008 \b, U+0009 \t, U+000A \n, U+000C \f, U+000D \r, " and \ with ECHAR, every other
# character in U+0000..U+001F and U+007F as \uXXXX (upper-case hex), and in IRIs the characters
# U+0000..U+0020 < > " { } | ^ ` \ as \uXXXX. A credential with, say, a form feed in a name
# would otherwise be signed over different bytes than a JavaScript verifier computes.

_LITERAL_ESCAPES = {c: "\\u%04X" % c for c in [*range(0x20), 0x7F]}
_LITERAL_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r",
                         0x22: '\\"', 0x5C: "\\\\"})
_IRI_ESCAPES = {c: "\\u%04X" % c for c in [*range(0x21), *map(ord, '<>"{}|^`\\')]}
_NEEDS_LITERAL_ESCAPE = re.compile('[\\x00-\\x1f\\x7f"\\\\]')
_NEEDS_IRI_ESCAPE = re.compile('[\\x00-\\x20<>"{}|^`\\\\]')


def escape_literal(value: str) -> str:
    """A string literal's characters in canonical N-Quads."""
    return value.translate(_LITERAL_ESCAPES) if _NEEDS_LITERAL_ESCAPE.search(value) else value




_IRI_TERMS: Memo = Memo(16384)  # sized with _IRI_MEMO_MAX (see there)


def _iri(value: str) -> str:
    """An IRI term in canonical N-Quads (remembered: predicates and types recur in every call)."""
    try:
        return _IRI_TERMS[value]  # type: ignore[no-any-return]
    except KeyError:
        return _IRI_TERMS.remember(
            value, "<" + (value.translate(_IRI_ESCAPES) if _NEEDS_IRI_ESCAPE.search(value) else value) + ">")


def serialize_quad(quad: dict) -> str:
    """One quad in pyld's dataset form (subject, predicate, object, optional name) as a
    canonical N-Quads line."""
    out = _term(quad["subject"]) + " " + _term(quad["predicate"]) + " " + _term(quad["object"])
    name = quad.get("name")
    if name is not None and name.get("value") is not None:
        out += " " + (name["value"] if name["value"].startswith("_:") else _iri(name["value"]))
    return out + " .\n"


class RDFC10(URDNA2015):
    """pyld's URDNA2015 (= RDFC-1.0) with the canonical N-Quads serialization above, and each
    quad listed once per blank node even when the node occurs in it twice (RDFC-1.0 §4.4.3 step
    2: the blank node to quads map holds quads, as rdf-canonize's sets do; pyld lists such a quad
    once per occurrence). Everything else is pyld's algorithm."""

    def main(self, dataset, options):
        # pyld issues the canonical labels (using hash_first_degree_quads below) and relabels
        # self.quads in place; its own serialization of them is then replaced by ours.
        super().main(dataset, {**options, "format": "application/n-quads"})
        lines = sorted(serialize_quad(q) for q in self.quads)
        if options.get("format") in ("application/n-quads", "application/nquads"):
            return "".join(lines)
        return parse_nquads("".join(lines))

    def hash_first_degree_quads(self, id_):
        info = self.blank_node_info[id_]
        if "hash" in info:
            return info["hash"]
        unique = list({id(q): q for q in info["quads"]}.values())
        info["quads"] = unique  # also what Hash N-Degree Quads walks
        nquads = []
        for quad in unique:
            nquads.append(serialize_quad({
                key: (component if key == "predicate" else self.modify_first_degree_component(id_, component, key))
                for key, component in quad.items()
            }))
        nquads.sort()
        info["hash"] = self.hash_nquads(nquads)
        return info["hash"]


# --- RDFC-1.0 for the common case -------------------------------------------------------------


def _term(component: dict) -> str:
    """One term in canonical N-Quads (see the escaping notes above)."""
    kind = component["type"]
    if kind == "IRI":
        return _iri(component["value"])
    if kind == "blank node":
        return component["value"]
    text = '"' + escape_literal(component["value"]) + '"'
    datatype = component["datatype"]
    if datatype == _RDF_LANGSTRING:
        if component.get("language"):
            text += "@" + component["language"]
    elif datatype != _XSD_STRING:
        text += "^^" + _iri(datatype)
    return text


def canonize_dataset(dataset: Dataset, *, fallback: Callable[[Dataset], str] | None = None,
                     max_blank_nodes: int | None = None, max_quads: int | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of a pyld RDF dataset (W3C RDFC-1.0 §4.4).

    Fast when every blank node has a distinct first-degree hash (§4.6): then §4.4.3 step 5
    issues every canonical label and step 6 (Hash N-Degree Quads) never runs. Otherwise the
    whole dataset goes to ``fallback`` (default: pyld's URDNA2015), and so does one with more
    than ``max_blank_nodes`` blank nodes or ``max_quads`` quads (so the fallback's own limits
    decide). The dataset is not modified.
    """
    fallback = fallback or _reference_canonize
    quads = []
    for graph_name, triples in dataset.items():
        if graph_name == "@default":
            g = None
        elif graph_name.startswith("_:"):
            g = graph_name
        else:
            g = _iri(graph_name)
        for triple in triples:
            quads.append([_term(triple["subject"]), _term(triple["predicate"]), _term(triple["object"]), g])
    result = _canonize_terms(quads, max_blank_nodes, max_quads)
    return fallback(dataset) if result is None else result


def _canonize_terms(quads: list, max_blank_nodes: int | None, max_quads: int | None) -> str | None:
    """The fast path on quads as [subject, predicate, object, graph-or-None] N-Quads terms;
    None when the full algorithm (or a limit) must decide."""
    if max_quads is not None and len(quads) > max_quads:
        return None
    # §4.4.3 step 2: each blank node's quads, each quad once (a node may occur in it twice).
    mentions: dict[str, list[int]] = {}
    for index, q in enumerate(quads):
        for k in (0, 2, 3):
            t = q[k]
            if t is not None and t[0] == "_":
                seen_in = mentions.setdefault(t, [])
                if not seen_in or seen_in[-1] != index:
                    seen_in.append(index)

    if not mentions:
        lines = [_line(q) for q in quads]
        lines.sort()
        return "".join(lines)
    if max_blank_nodes is not None and len(mentions) > max_blank_nodes:
        return None

    # §4.6 Hash First Degree Quads, for every blank node.
    by_hash: dict[str, str] = {}
    for node, indexes in mentions.items():
        def first_degree(t: str, node: str = node) -> str:
            return "_:a" if t == node else "_:z"

        lines = [_relabelled(quads[i], first_degree) for i in indexes]
        lines.sort()
        digest = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
        if digest in by_hash:
            return None  # two blank nodes look alike from one step away: N-degree decides
        by_hash[digest] = node

    labels = {by_hash[h]: "_:c14n" + str(i) for i, h in enumerate(sorted(by_hash))}
    out = [_relabelled(q, labels.__getitem__) for q in quads]
    out.sort()
    return "".join(out)


def _relabelled(q: list, relabel: Callable[[str], str]) -> str:
    """One N-Quads line with each blank node term (subject, object, graph) passed through
    ``relabel``; the predicate is never a blank node here (no generalized RDF)."""
    s, p, o, g = q
    if s[0] == "_":
        s = relabel(s)
    if o[0] == "_":
        o = relabel(o)
    if g is None:
        return s + " " + p + " " + o + " .\n"
    if g[0] == "_":
        g = relabel(g)
    return s + " " + p + " " + o + " " + g + " .\n"


class _Unusual(Exception):
    """The expanded document has a feature the direct conversion leaves to pyld."""


def _quads_from_expanded(expanded: list, processor: Any, options: dict) -> list:
    """JSON-LD → RDF (JSON-LD 1.1 API §4.8 toRdf) for expanded documents made of node
    objects, plain properties and value objects: the shape of credentials and proof options.

    The same quads, with the same duplicates, as pyld's node map + ``_graph_to_rdf``: values
    are de-duplicated per (subject, property) exactly as pyld's ``add_value`` compares them
    (value objects by @type, @language and @value with ``==``, so 1 and 1.0 are one value;
    references by @id; @type entries by string), keeping the first in pyld's traversal order
    (properties sorted, arrays in order). A list (JSON-LD 1.1 API §8.4, List to RDF Conversion)
    becomes its rdf:first / rdf:rest chain of fresh blank nodes, ending in rdf:nil, as pyld's
    ``_list_to_rdf`` makes it: its items in order, duplicates kept, and every list a value of
    its own (pyld adds lists with ``allowDuplicate``: two empty lists are two rdf:nil quads).
    Open Badges 3.0 has one (``allowedValue``), so micro-credentials with an assessment's
    allowed values take this path. Blank node labels differ from pyld's, which RDFC-1.0
    makes irrelevant. Graphs, reverse and included nodes, @index, @json and @direction values,
    relative IRIs and blank-node types raise ``_Unusual``.
    """
    quads: list = []
    seen: set = set()
    labels: dict = {}
    absolute = _absolute_iri
    object_to_rdf = processor._object_to_rdf

    issued = [0]

    def blank(label: str | None) -> str:
        # every blank node gets a fresh label, so a document's own `_:b0` cannot collide
        if label is not None and label in labels:
            return labels[label]
        issued[0] += 1
        new = "_:b" + str(issued[0])
        if label is not None:
            labels[label] = new
        return new

    def subject_of(node: dict) -> str:
        node_id = node.get("@id")
        if node_id is None:
            return blank(None)
        if type(node_id) is not str:
            raise _Unusual
        if node_id.startswith("_:"):
            return blank(node_id)
        if not absolute(node_id):
            raise _Unusual
        return _iri(node_id)

    def add(s: str, p: str, o: str, key: Any) -> None:
        k = (s, p, key)
        if k not in seen:
            seen.add(k)
            quads.append([s, p, o, None])

    def literal(v: dict) -> tuple[str, Any]:
        # A value object's N-Quads term, and what pyld's add_value compares it by.
        if "@index" in v or "@direction" in v or v.get("@type") == "@json":
            raise _Unusual
        value = v["@value"]
        datatype = v.get("@type")
        language = v.get("@language")
        if type(value) is str and datatype is None:
            # pyld's _object_to_rdf + serialize_nquad for the commonest literals
            term = '"' + escape_literal(value) + '"' + ("@" + language if language else "")
        elif type(value) is str and language is None and datatype != _XSD_DOUBLE:
            term = '"' + escape_literal(value) + '"' + (
                "" if datatype == _XSD_STRING else "^^" + _iri(datatype))
        else:
            converted = object_to_rdf(v, None, None, options)
            if converted is None or converted["type"] != "literal":
                raise _Unusual
            term = _term(converted)
        tagged = ("b", value) if type(value) is bool else ("x", value)
        return term, ("v", datatype, language, tagged)

    def list_head(v: dict) -> str:
        if len(v) != 1:  # @index beside @list
            raise _Unusual
        items = v["@list"]
        if not items:
            return _RDF_NIL_TERM
        head = node = blank(None)
        for left, item in zip(range(len(items) - 1, -1, -1), items):
            quads.append([node, _RDF_FIRST_TERM, item_term(item), None])
            rest = blank(None) if left else _RDF_NIL_TERM
            quads.append([node, _RDF_REST_TERM, rest, None])
            node = rest
        return head

    def item_term(item: Any) -> str:
        if type(item) is not dict:
            raise _Unusual
        if "@value" in item:
            return literal(item)[0]
        if "@list" in item:
            return list_head(item)
        o = subject_of(item)
        visit(item, o)
        return o

    def visit(node: dict, s: str) -> None:
        for prop, values in sorted(node.items()):
            if prop == "@id":
                continue
            if prop == "@type":
                for t in values:
                    if type(t) is not str or t.startswith("_:") or not absolute(t):
                        raise _Unusual
                    add(s, _RDF_TYPE_TERM, _iri(t), ("t", t))
                continue
            if prop[0] == "@" or prop.startswith("_:") or not absolute(prop):
                raise _Unusual
            p = _iri(prop)
            for v in values:
                if type(v) is not dict:
                    raise _Unusual
                if "@value" in v:
                    add(s, p, *literal(v))
                    continue
                if "@list" in v:  # never de-duplicated (pyld's allowDuplicate for lists)
                    quads.append([s, p, list_head(v), None])
                    continue
                # a graph, set or reverse object shows its keyword to visit(), which refuses
                # every keyword but @id and @type
                o = subject_of(v)
                add(s, p, o, ("id", o))
                visit(v, o)

    for node in expanded:
        if type(node) is not dict:
            raise _Unusual
        visit(node, subject_of(node))
    return quads


def canonize_expanded(expanded: list, *, processor: Any = None,
                      fallback: Callable[[Dataset], str] | None = None,
                      max_blank_nodes: int | None = None, max_quads: int | None = None,
                      **options: Any) -> str:
    """RDFC-1.0 canonical N-Quads of an expanded JSON-LD document.

    Credentials take the direct path (``_quads_from_expanded`` + the first-degree fast path);
    anything else goes through pyld's own RDF conversion and ``canonize_dataset``.
    """
    processor = processor or _pyld.JsonLdProcessor()
    opts = {"produceGeneralizedRdf": False, "rdfDirection": None, "processingMode": "json-ld-1.1", **options}
    try:
        quads = _quads_from_expanded(expanded, processor, opts)
    except _Unusual:
        quads = None
    if quads is not None:
        result = _canonize_terms(quads, max_blank_nodes, max_quads)
        if result is not None:
            return result
    return canonize_dataset(dataset_from_expanded(expanded, processor=processor, **options),
                            fallback=fallback, max_blank_nodes=max_blank_nodes, max_quads=max_quads)


def _line(terms: list) -> str:
    if terms[3] is None:
        return terms[0] + " " + terms[1] + " " + terms[2] + " .\n"
    return terms[0] + " " + terms[1] + " " + terms[2] + " " + terms[3] + " .\n"


def _reference_canonize(dataset: Dataset) -> str:
    return RDFC10().main(_copy_dataset(dataset), {"format": "application/n-quads"})


def _copy_dataset(dataset: Dataset) -> Dataset:
    # URDNA2015 rewrites the quads it is given; two levels of dict copy are all it touches.
    return {
        g: [{k: dict(v) for k, v in t.items()} for t in triples] for g, triples in dataset.items()
    }



def expand(document: Any, cache: ContextCache, *, processor: Any = None, **options: Any) -> list:
    """JSON-LD 1.1 expansion (JSON-LD 1.1 API §4.1) through the cache."""
    with cache.lock:
        return (processor or cache.processor()).expand(document, cache.options(**options))


def dataset_from_expanded(expanded: list, *, processor: Any = None, **options: Any) -> Dataset:
    """The RDF dataset of an already expanded document: exactly what pyld's ``to_rdf`` does
    after its own expansion (node map, then each graph to RDF), without expanding again."""
    processor = processor or _pyld.JsonLdProcessor()
    opts = {"produceGeneralizedRdf": False, "rdfDirection": None,
            "processingMode": "json-ld-1.1", **options}
    issuer = IdentifierIssuer("_:b")
    node_map: dict = {"@default": {}}
    processor._create_node_map(expanded, node_map, "@default", issuer)
    dataset = {}
    for graph_name, graph in sorted(node_map.items()):
        if graph_name == "@default" or _pyld._is_absolute_iri(graph_name):
            dataset[graph_name] = processor._graph_to_rdf(graph, issuer, opts)
    return dataset


def to_dataset(document: Any, cache: ContextCache, *, processor: Any = None, **options: Any) -> Dataset:
    """JSON-LD → RDF dataset (JSON-LD 1.1 API §4.8 toRdf) through the cache."""
    processor = processor or cache.processor()
    return dataset_from_expanded(expand(document, cache, processor=processor, **options),
                                 processor=processor)


def canonize(document: Any, cache: ContextCache, *, processor: Any = None,
             fallback: Callable[[Dataset], str] | None = None, **options: Any) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document: ``expand`` + ``canonize_expanded``."""
    processor = processor or cache.processor()
    return canonize_expanded(expand(document, cache, processor=processor, **options),
                             processor=processor, fallback=fallback)


# --- the fence: what this module (and vc.jsonld's plain path) assume of pyld's internals --------

log = logging.getLogger(__name__)

FAST = "fast"  # needed by the fast path only: when changed, vc.jsonld uses plain pyld
BOTH = "both"  # needed by the plain path as well (safe mode, RDFC-1.0): when changed, no JSON-LD


@dataclass(frozen=True)
class Internal:
    """One pyld internal: ``where`` is ``module:Qualified.name``; ``signature`` the parameters as
    written against (None for an instance attribute); ``use`` "overrides" (must stay exactly
    so: pyld calls our method), "calls" (our call must still bind: new parameters need defaults)
    or "reads" (the attribute must exist); ``paths`` FAST or BOTH; ``why`` what relies on it."""

    where: str
    signature: str | None
    use: str
    paths: str
    why: str


PYLD_INTERNALS: tuple[Internal, ...] = (
    # JsonLdProcessor: expansion, context processing, RDF conversion
    Internal("pyld.jsonld:JsonLdProcessor.__init__", "(self, on_property_dropped=…)", "calls", BOTH,
             "safe mode's dropped-property hook"),
    Internal("pyld.jsonld:JsonLdProcessor.on_property_dropped", None, "reads", FAST, "subtree memo key"),
    Internal("pyld.jsonld:JsonLdProcessor._expand",
             "(self, active_ctx, active_property, element, options, inside_list=False, inside_index=False, "
             "type_scoped_ctx=None)", "overrides", BOTH, "vc.jsonld safe mode; fastld subtree memo"),
    Internal("pyld.jsonld:JsonLdProcessor.expand", "(self, input_, options)", "overrides", FAST,
             "FastContextMixin.expand (no deep copy of the input)"),
    Internal("pyld.jsonld:JsonLdProcessor._get_initial_context", "(self, options)", "calls", FAST,
             "FastContextMixin.expand"),
    Internal("pyld.jsonld:JsonLdProcessor._process_context",
             "(self, active_ctx, local_ctx, options, override_protected=False, propagate=True, "
             "validate_scoped=True, cycles=None)", "overrides", FAST, "processed-context memo"),
    Internal("pyld.jsonld:JsonLdProcessor._clone_active_context", "(self, active_ctx)", "calls", FAST,
             "deterministic type-scoped child contexts"),
    Internal("pyld.jsonld:JsonLdProcessor._expand_iri",
             "(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None)", "overrides",
             FAST, "IRI memo"),
    Internal("pyld.jsonld:JsonLdProcessor._expand_value", "(self, active_ctx, active_property, value, options)",
             "overrides", FAST, "value memo"),
    Internal("pyld.jsonld:JsonLdProcessor._graph_to_rdf", "(self, graph, issuer, options)", "overrides", FAST,
             "FastContextMixin._graph_to_rdf (a copy of pyld's, checks hoisted)"),
    Internal("pyld.jsonld:JsonLdProcessor._object_to_rdf", "(self, item, issuer, triples, options)", "calls",
             FAST, "direct RDF conversion"),
    Internal("pyld.jsonld:JsonLdProcessor._create_node_map",
             "(self, input_, graph_map, active_graph, issuer, active_subject=None, active_property=None, "
             "list_=None)", "calls", FAST, "dataset_from_expanded"),
    Internal("pyld.jsonld:JsonLdProcessor.arrayify", "(value)", "calls", FAST, "FastContextMixin.expand"),
    Internal("pyld.jsonld:_is_absolute_iri", "(v)", "calls", BOTH, "safe mode's IRI checks (memoized)"),
    Internal("pyld.jsonld:_is_keyword", "(v)", "calls", FAST, "FastContextMixin._graph_to_rdf"),
    # the context resolver and its resolved contexts
    Internal("pyld.context_resolver:ContextResolver.__init__", "(self, shared_cache, document_loader)", "calls",
             BOTH, "per-loader context cache"),
    Internal("pyld.context_resolver:ContextResolver.resolve", "(self, active_ctx, context, base, cycles=None)",
             "overrides", FAST, "_CachingResolver"),
    Internal("pyld.context_resolver:ContextResolver._fetch_context", "(self, active_ctx, url, cycles)",
             "overrides", FAST, "_CachingResolver pins fetched contexts"),
    Internal("pyld.context_resolver:ContextResolver.per_op_cache", None, "reads", FAST, "_CachingResolver"),
    Internal("pyld.context_resolver:ContextResolver.shared_cache", None, "reads", FAST, "_CachingResolver"),
    Internal("pyld.context_resolver:ContextResolver.document_loader", None, "reads", FAST, "_CachingResolver"),
    Internal("pyld.resolved_context:ResolvedContext.__init__", "(self, document)", "calls", FAST,
             "_CachingResolver"),
    Internal("pyld.resolved_context:ResolvedContext.document", None, "reads", FAST,
             "type-scoped @propagate check"),
    Internal("pyld.identifier_issuer:IdentifierIssuer.__init__", "(self, prefix)", "calls", FAST,
             "dataset_from_expanded"),
    # RDFC-1.0 (URDNA2015): canonical N-Quads escaping (RDFC10) and the work limits (vc.jsonld)
    Internal("pyld.canon:URDNA2015.__init__", "(self)", "calls", BOTH, "RDFC10"),
    Internal("pyld.canon:URDNA2015.main", "(self, dataset, options)", "overrides", BOTH, "RDFC10"),
    Internal("pyld.canon:URDNA2015.hash_first_degree_quads", "(self, id_)", "overrides", BOTH,
             "RDFC10 (canonical escaping), vc.jsonld blank-node limit"),
    Internal("pyld.canon:URDNA2015.modify_first_degree_component", "(self, id_, component, key)", "calls",
             BOTH, "RDFC10"),
    Internal("pyld.canon:URDNA2015.hash_nquads", "(self, nquads)", "calls", BOTH, "RDFC10"),
    Internal("pyld.canon:URDNA2015.hash_n_degree_quads", "(self, id_, issuer)", "overrides", BOTH,
             "vc.jsonld deep-iteration limit"),
    Internal("pyld.canon:URDNA2015.create_hash_to_related", "(self, id_, issuer)", "overrides", BOTH,
             "vc.jsonld permutation limit"),
    Internal("pyld.canon:URDNA2015.blank_node_info", None, "reads", BOTH, "RDFC10, vc.jsonld limits"),
    Internal("pyld.canon:URDNA2015.hash_to_blank_nodes", None, "reads", BOTH, "vc.jsonld limits"),
    Internal("pyld.canon:URDNA2015.quads", None, "reads", BOTH, "RDFC10"),
    Internal("pyld.nquads:parse_nquads", "(input_)", "calls", BOTH, "RDFC10 (dataset output)"),
)

# How an instance of each class is made to see its instance attributes.
_SAMPLES: dict[str, Callable[[Any], Any]] = {
    "JsonLdProcessor": lambda cls: cls(),
    "ContextResolver": lambda cls: cls({}, None),
    "ResolvedContext": lambda cls: cls({}),
    "URDNA2015": lambda cls: cls(),
}


def _parameters(fn: Any) -> list[str]:
    """Parameter names with their defaults as fastld writes them: literal defaults by value,
    any other default as ``…``; annotations left out."""
    out = []
    for p in inspect.signature(fn).parameters.values():
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        if p.default is not p.empty:
            simple = p.default is None or isinstance(p.default, (bool, int, str))
            text += "=" + (repr(p.default) if simple else "…")
        out.append(text)
    return out


def _compatible(internal: Internal, actual: list[str], expected: list[str]) -> bool:
    if internal.use == "overrides":
        return actual == expected
    # a call still binds when what we pass is still there, in place; anything new has a default
    names = [p.split("=")[0] for p in actual]
    wanted = [p.split("=")[0] for p in expected]
    return names[: len(wanted)] == wanted and all("=" in p or p.startswith("*") for p in actual[len(wanted):])


def check_pyld() -> list[tuple[Internal, str]]:
    """Every internal in ``PYLD_INTERNALS`` the installed pyld no longer has as expected, with a
    sentence saying what changed. Empty for the pyld this was written against."""
    changed = []
    for internal in PYLD_INTERNALS:
        module_name, _, qualified = internal.where.partition(":")
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError as e:
            changed.append((internal, f"pyld has no module {module_name} ({e})"))
            continue
        *parents, name = qualified.split(".")
        try:
            for parent in parents:
                owner = getattr(owner, parent)
        except AttributeError:
            changed.append((internal, f"{module_name} has no {'.'.join(parents)}"))
            continue
        if internal.signature is None:
            try:
                present = hasattr(_SAMPLES[parents[-1]](owner), name) or hasattr(owner, name)
            except Exception as e:  # noqa: BLE001 - a constructor that changed is itself the finding
                changed.append((internal, f"{module_name}.{parents[-1]} cannot be made as fastld makes it: {e!r}"))
                continue
            if not present:
                changed.append((internal, f"{module_name}.{qualified} no longer exists (fastld reads it)"))
            continue
        target = getattr(owner, name, None)
        if target is None or not callable(target):
            changed.append((internal, f"{module_name}.{qualified} no longer exists (fastld {internal.use} it)"))
            continue
        expected = [p.strip() for p in internal.signature.strip("()").split(",") if p.strip()]
        try:
            actual = _parameters(target)
        except (TypeError, ValueError):
            changed.append((internal, f"{module_name}.{qualified} has no readable signature"))
            continue
        if not _compatible(internal, actual, expected):
            changed.append((internal, f"{module_name}.{qualified} is now ({', '.join(actual)}); fastld "
                                      f"{internal.use} it as ({', '.join(expected)})"))
    return changed


# --- the probe: the fast path's output against plain pyld's, on documents shaped like credentials ---

_PROBE_VOCAB = "https://probe.vcnode.invalid/#"
_PROBE_CONTEXT = {
    "@version": 1.1,
    "@protected": True,
    "id": "@id",
    "type": "@type",
    "name": {"@id": _PROBE_VOCAB + "name"},
    "Credential": {
        "@id": _PROBE_VOCAB + "Credential",
        "@context": {  # type-scoped, not propagated: OB 3.0's pattern
            "@protected": True,
            "issued": {"@id": _PROBE_VOCAB + "issued", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
            "subject": {"@id": _PROBE_VOCAB + "subject", "@type": "@id"},
            "achievement": {"@id": _PROBE_VOCAB + "achievement"},
            "tags": {"@id": _PROBE_VOCAB + "tags", "@container": "@list"},
        },
    },
    "Achievement": {
        "@id": _PROBE_VOCAB + "Achievement",
        "@context": {
            "credits": {"@id": _PROBE_VOCAB + "credits", "@type": "http://www.w3.org/2001/XMLSchema#decimal"},
            "note": {"@id": _PROBE_VOCAB + "note", "@language": "en"},
            "motto": {"@id": _PROBE_VOCAB + "motto", "@language": "ar", "@direction": "rtl"},
            "criteria": {"@id": _PROBE_VOCAB + "criteria"},
            "final": {"@id": _PROBE_VOCAB + "final"},
        },
    },
}


def _probe_documents() -> list[dict]:
    achievement = {"type": "Achievement", "name": "Probe course", "credits": "6.0", "note": "a \"quoted\"\u000c note",
                   "criteria": {"name": "pass", "final": True}}
    directed = {**achievement, "motto": "\u0645\u0631\u062d\u0628\u0627"}  # @direction: pyld's own RDF conversion
    credential = {"@context": _PROBE_CONTEXT, "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
                  "type": "Credential", "name": ["Probe", 3, 2.5, False], "issued": "2025-01-01T00:00:00Z",
                  "subject": "did:example:probe", "achievement": achievement}
    with_list = {**credential, "tags": ["b", "a", {"name": "c"}]}  # pyld's own RDF conversion
    alike = {**credential, "achievement": [dict(achievement), {**achievement, "criteria": {"name": "pass",
                                                                                            "final": True}}]}
    return [credential, with_list, alike,  # alike: two blank nodes only N-degree hashing tells apart
            {**credential, "achievement": directed}]


def _refuse(url: str, options: Any = None) -> Any:
    raise _pyld.JsonLdError(f"the fastld probe loads no documents ({url})", "jsonld.LoadDocumentError")


def _probe() -> str | None:
    """None when the fast path gives plain pyld's bytes on every probe document, cold and warm,
    with vc.jsonld's RDF direction mode; otherwise what differed."""
    cache = ContextCache(_refuse)
    direction = "i18n-datatype"  # vc.jsonld.RDF_DIRECTION
    for document in _probe_documents():
        dataset = _pyld.to_rdf(copy.deepcopy(document), {"documentLoader": _refuse, "rdfDirection": direction,
                                                         "contextResolver": ContextResolver({}, _refuse)})
        want = RDFC10().main(dataset, {"format": "application/n-quads"})
        for attempt in ("cold", "warm"):
            try:
                processor = cache.processor()
                got = canonize_expanded(expand(copy.deepcopy(document), cache, processor=processor),
                                        processor=processor, rdfDirection=direction)
            except Exception as e:  # noqa: BLE001 - any failure makes the fast path unusable
                return f"the fast path failed on a probe document ({attempt}): {e!r}"
            if got != want:
                return f"the fast path's canonical N-Quads differ from plain pyld's on a probe document ({attempt})"
    return None


@dataclass(frozen=True)
class Fence:
    """What the installed pyld allows: ``fast`` (this module may be used), ``safe`` (pyld may be
    used at all: the plain path's own hooks are intact), and the findings."""

    fast: bool
    safe: bool
    problems: tuple[str, ...]
    pyld_version: str

    def refusal(self) -> str:
        return (f"JSON-LD processing is disabled: the installed pyld {self.pyld_version} changed internals that "
                f"safe mode and RDFC-1.0 rely on ({'; '.join(self.problems)})")


_FENCE: Fence | None = None
_FENCE_LOCK = threading.Lock()


def fence() -> Fence:
    """The fence's verdict for this process (checked once, at first use; see the module docstring)."""
    global _FENCE
    found = _FENCE
    if found is not None:
        return found
    with _FENCE_LOCK:
        if _FENCE is None:
            _FENCE = _assess()
        return _FENCE


def _assess() -> Fence:
    version = getattr(_pyld, "__version__", "unknown")
    changed = check_pyld()
    problems = tuple(text for _, text in changed)
    if any(internal.paths == BOTH for internal, _ in changed):
        verdict = Fence(fast=False, safe=False, problems=problems, pyld_version=version)
        log.error("%s", verdict.refusal())
        return verdict
    if not problems:
        found = _probe()
        problems = () if found is None else (found,)
    verdict = Fence(fast=not problems, safe=True, problems=problems, pyld_version=version)
    if problems:
        log.warning("vc.fastld: the fast JSON-LD path is not used with pyld %s (%s); canonicalizing with plain "
                    "pyld instead: the same bytes, about ten times slower", version, "; ".join(problems))
    return verdict


def _reset_fence() -> None:
    """Forget the verdict (tests that simulate another pyld)."""
    global _FENCE
    with _FENCE_LOCK:
        _FENCE = None
