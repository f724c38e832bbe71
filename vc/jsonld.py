"""JSON-LD expansion and RDFC-1.0 canonicalization in safe mode: the only importer of ``pyld``.

``expand`` and ``canonize`` refuse, with PROOF_TRANSFORMATION_ERROR, anything JSON-LD would
silently drop (VC Data Integrity 1.0 §2.2 and §4.3, "safe mode" as jsonld.js implements it): a
term or type no context defines, a relative IRI where an IRI is needed, a protected term
redefined. Without this a signer and a verifier can disagree about what was signed: a property
the context does not define is simply not in the canonical form, so it could be changed after
signing without breaking the signature.

RDFC-1.0 (https://www.w3.org/TR/rdf-canon/) is pyld's ``URDNA2015`` class. Its worst case is
exponential in the number of blank nodes that look alike, so the work is capped (like
rdf-canonize's ``maxWorkFactor``) and a hostile graph is refused in bounded time.

pyld is synchronous; callers keep heavy calls off the event loop. The document loader is passed
per call (never ``set_document_loader``), and each loader gets its own processed-context cache,
so two loaders can never see each other's contexts.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Mapping

from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver

from did.cache import LRU
from vc import fastld
from vc.errors import ProblemError, ProofTransformationError
from vc.jcs import MAX_SAFE_INTEGER, double_of
from vc.loader import UnknownContextError

JsonObject = dict[str, Any]
DocumentLoader = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]

ALGORITHM = "URDNA2015"  # pyld's name for RDFC-1.0 (the two are the same algorithm)
NQUADS = "application/n-quads"
# JSON-LD 1.1 API §8.4: how a value's base direction reaches RDF. Digital Bazaar's eddsa-rdfc-2022
# canonize (the suites' reference) runs toRDF in safe mode with "i18n-datatype": a value with
# @direction becomes a literal of datatype https://www.w3.org/ns/i18n#{language}_{direction}, so
# the text, its (lower-cased) language and its direction are all signed. Without it @direction
# would be dropped from the signed data (and safe mode refuses what would be dropped).
RDF_DIRECTION = "i18n-datatype"

# Limits on what one canonicalization may cost. A credential has tens of blank nodes and a few
# hundred quads; these leave generous room while keeping the worst case far below a second.
MAX_QUADS = 20_000
MAX_BLANK_NODES = 5_000
# pyld's JSON-to-RDF step removes duplicate values of a property by comparing each new value with
# every earlier one: n values cost n(n-1)/2 comparisons (2,000 values already take seconds). The
# budget below allows about 1,000 values in one property, far more than any credential carries.
MAX_VALUE_PAIRS = 500_000
# rdf-canonize (the RDFC-1.0 of Digital Bazaar's stack) runs Hash N-Degree Quads at most
# (number of non-unique blank nodes) ** maxWorkFactor times, with maxWorkFactor 1 by default; the
# same budget here means we refuse what the reference implementation refuses. The permutation
# budget (permutations actually walked) bounds the one loop deep-iteration counting does not (k
# alike neighbours, k! orders).
MAX_WORK_FACTOR = 1
MAX_PERMUTATIONS = 20_000


class CanonicalizationLimitError(ProofTransformationError):
    """The graph would take too much work to canonicalize (a possible denial of service)."""


# --- safe mode -------------------------------------------------------------------------------


def _dropped(expanded_property: str | None) -> None:
    raise ProofTransformationError(
        f"the property {expanded_property!r} is not defined by any @context and would be dropped from "
        "the signed data (safe mode)",
        term=expanded_property,
    )


# BCP 47 shape, as jsonld.js checks it (JSON-LD 1.1 §9.8 "well-formed" language tags).
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")


class _SafeExpansion:
    """Refuses what pyld's expansion drops without calling ``on_property_dropped``: a value
    object with a null @value or only @language, a free-floating node or scalar (jsonld.js safe
    mode: 'null @value value', 'object with only @language', 'free-floating scalar', ...)."""

    def _expand(self, active_ctx: Any, active_property: Any, element: Any, options: Any, *args: Any, **kwargs: Any) -> Any:
        result = super()._expand(active_ctx, active_property, element, options, *args, **kwargs)  # type: ignore[misc]
        if result is None and element is not None and active_property is not None:
            shown = json.dumps(element)[:80] if not isinstance(element, (dict, list)) else (
                "{" + ", ".join(sorted(map(str, element)))[:80] + "}" if isinstance(element, dict) else "[...]"
            )
            raise ProofTransformationError(
                f"the value {shown} of {active_property!r} would be dropped by JSON-LD expansion (safe mode)"
            )
        return result


class _SafeProcessor(_SafeExpansion, _pyld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor with the safe-mode expansion guard."""


def _is_absolute_iri(value: str) -> bool:
    # pyld's regex, remembered per string by fastld (types and datatypes recur in every call)
    return fastld._absolute_iri(value) or value.startswith("_:")


def _path_text(base: str, node: Any) -> str:
    """The error location of a ``_check_expanded`` path: ``node`` is (parent, step) links, a
    list index or a property; keywords are not steps, and an index at the top adds nothing."""
    steps = []
    while node is not None:
        node, step = node
        steps.append(step)
    where = base
    for step in reversed(steps):
        if type(step) is int:
            where = f"{where}[{step}]" if where else where
        else:
            where = f"{where}/{step}"
    return where


def _as_processors_read_it(item: dict[str, Any], value: int, where: str) -> None:
    """A whole number past ±(2^53 − 1) as JSON-LD processors that read JSON numbers as doubles
    (jsonld.js, most others) put it into RDF. Below 10^21, JSON-LD 1.1's Object to RDF
    Conversion makes it an xsd:integer written digit for digit, so 9007199254740993 here
    against 9007199254740992 there would sign one document and verify another. Digits a double has (its exact value,
    or how ECMAScript writes it: 2^60 as 1152921504606847000) become that double's exact
    integer, as those processors write it; digits no double has are refused, as eddsa-jcs-2022
    refuses them (``vc.jcs``): a signature must not cover a number other than the one shown.
    From 10^21 both sides write the double already (xsd:double)."""
    if abs(value) >= 10**21:
        return
    double = double_of(value)
    if double is None:
        raise ProofTransformationError(
            f"{where or 'document'}: the integer {value} is more precise than a double (I-JSON, RFC 7493 §2.2): "
            f"JSON-LD processors that read numbers as doubles see {float(value):.0f} and would not verify a signature "
            "over it; send it as a string"
        )
    item["@value"] = int(double)


# Set while a proof is being made (``signing``): some refusals protect other verifiers, and the
# specification's reading, which verifying keeps, is not wrong.
_SIGNING: ContextVar[bool] = ContextVar("vc.jsonld.signing", default=False)


@contextmanager
def signing() -> Iterator[None]:
    """The canonicalizations within are of a document being signed (``vc.proofs.add_proof``)."""
    token = _SIGNING.set(True)
    try:
        yield
    finally:
        _SIGNING.reset(token)


def _misread_fraction(value: float) -> bool:
    """A fraction jsonld.js puts into RDF as another number. JSON-LD 1.1 §8.6 makes a number with
    a fractional part an xsd:double ("1.0E-7"); jsonld.js takes a number whose JavaScript
    spelling has no "." for a whole one and writes 1e-7 as "0"^^xsd:integer, so neither side
    would verify the other's signature. Such numbers are below 10^-6 in size with one
    significant digit (1e-7, 5e-324); ``repr`` spells them as ECMAScript does."""
    return value != 0 and abs(value) < 1e-6 and "." not in repr(value)


def _check_expanded(element: Any, path: str = "") -> None:
    """Refuse what expansion kept but RDF conversion would silently drop (jsonld.js safe mode:
    relative @id / @type references, malformed language tags), and numbers other processors
    would read otherwise (``_as_processors_read_it``; a non-finite float)."""
    # Paths are (parent, step) links, turned into text only for an error: formatting one per
    # value was half of this walk's time.
    stack: list[tuple[Any, Any]] = [(element, None)]
    values = pairs = 0
    while stack:
        item, node = stack.pop()
        if isinstance(item, list):
            stack.extend((v, (node, i)) for i, v in enumerate(item))
            continue
        if not isinstance(item, dict):
            continue
        if "@value" in item:
            datatype = item.get("@type")
            if isinstance(datatype, str) and datatype != "@json" and not _is_absolute_iri(datatype):
                where = _path_text(path, node)
                raise ProofTransformationError(f"{where}: the datatype {datatype!r} is a relative IRI (safe mode)")
            # @direction needs nothing here: RDF_DIRECTION gives it an RDF form (expansion has
            # already refused any value but "ltr" and "rtl").
            value = item["@value"]
            if type(value) is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER and datatype != _pyld.XSD_DOUBLE:
                _as_processors_read_it(item, value, _path_text(path, node))
            elif type(value) is float and not math.isfinite(value):
                raise ProofTransformationError(f"{_path_text(path, node) or 'document'}: {value} is no number JSON can carry")
            elif type(value) is float and datatype != _pyld.XSD_DOUBLE and _SIGNING.get() and _misread_fraction(value):
                # A value typed xsd:double takes jsonld.js's double branch and is read alike.
                raise ProofTransformationError(
                    f"{_path_text(path, node) or 'document'}: the number {value!r} would be read as 0 by JSON-LD "
                    "processors that take a number written without a decimal point for a whole one (jsonld.js), "
                    'which could not verify the signature; send it as a string, or typed, as {"@value": "1.0E-7", '
                    '"@type": "xsd:double"}'
                )
            language = item.get("@language")
            if language is not None and not (isinstance(language, str) and _LANGUAGE_TAG.fullmatch(language)):
                # pyld would write it into the N-Quads as it is, giving an invalid literal.
                where = _path_text(path, node)
                raise ProofTransformationError(f"{where}: {language!r} is not a well-formed language tag (safe mode)")
            continue
        node_id = item.get("@id")
        if isinstance(node_id, str) and not _is_absolute_iri(node_id):
            where = _path_text(path, node)
            raise ProofTransformationError(
                f"{where or 'document'}: the id {node_id!r} is a relative IRI and would be dropped (safe mode)"
            )
        types = item.get("@type", [])
        for t in types if isinstance(types, list) else [types]:
            if isinstance(t, str) and not _is_absolute_iri(t):
                where = _path_text(path, node)
                raise ProofTransformationError(
                    f"{where or 'document'}: the type {t!r} is not defined by any @context (safe mode)", term=t
                )
        for key, value in item.items():
            if key not in ("@id", "@type"):
                keyword = key.startswith("@")
                stack.append((value, node if keyword else (node, key)))
                n = len(value) if isinstance(value, list) else 1
                values += n
                if not keyword:  # node objects in @graph/@list are not compared
                    pairs += n * (n - 1) // 2
                if pairs > MAX_VALUE_PAIRS:
                    where = _path_text(path, node)
                    raise CanonicalizationLimitError(
                        f"{where or 'the document'}: a property has {n} values; with the others that is more than "
                        f"JSON-LD processing is allowed to compare (about {int((2 * MAX_VALUE_PAIRS) ** 0.5)} in one property)"
                    )
        if values > MAX_QUADS:
            raise CanonicalizationLimitError(f"the document has more than {MAX_QUADS} values; at most {MAX_QUADS} are accepted")


# --- the processor ---------------------------------------------------------------------------

# One processed-context cache per loader: pyld's module-wide default is keyed by URL alone, so an
# operator loader and a test loader would otherwise share (and poison) each other's entries. With
# it, a lock: pyld's resolved contexts keep caches of their own that are not thread-safe, and the
# node verifies on many threads when the plain path is its fallback (pyld is pure Python, so
# the GIL serializes the work anyway).
_caches: "weakref.WeakKeyDictionary[Any, tuple[LRU[Any, Any], threading.RLock]]" = weakref.WeakKeyDictionary()


def _plain(loader: DocumentLoader) -> tuple[LRU[Any, Any], threading.RLock]:
    try:
        return _caches[loader]
    except KeyError:
        return _caches.setdefault(loader, (LRU(256), threading.RLock()))


def _options(loader: DocumentLoader) -> dict[str, Any]:
    return {
        "documentLoader": loader,
        "contextResolver": ContextResolver(_plain(loader)[0], loader),
        "base": None,
        "processingMode": "json-ld-1.1",
        "extractAllScripts": False,
        "rdfDirection": RDF_DIRECTION,
    }


# --- the fast path (vc/fastld.py) ----------------------------------------------------------------
# The same bytes as the plain path (tests/vc/test_fast_canon.py holds the two together on every
# vector and a random corpus), many times faster: pyld's processed-context caches made to hit,
# credentials converted to RDF directly, RDFC-1.0's first-degree fast path. Safe mode is intact:
# the same dropped-property hook, the same _check_expanded, the same limits and bounded
# fallback. ``fast=False`` selects the plain path (differential tests, bench/bench_vc.py), and so
# does fastld's fence when the installed pyld's internals are not the ones fastld was written for.
_fast_caches: "weakref.WeakKeyDictionary[Any, fastld.ContextCache]" = weakref.WeakKeyDictionary()


class _SafeFastProcessor(_SafeExpansion, fastld.FastContextMixin, _pyld.JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor with the fast path's context caching; safe mode comes in as pyld's
    ``on_property_dropped`` hook, exactly as on the plain path."""


def _fast(loader: DocumentLoader) -> tuple[fastld.ContextCache, Any]:
    try:
        cache = _fast_caches[loader]
    except KeyError:
        # a weak proxy: the cache must not keep its own WeakKeyDictionary key alive
        cache = _fast_caches.setdefault(loader, fastld.ContextCache(weakref.proxy(loader)))
    return cache, cache.processor(_SafeFastProcessor, on_property_dropped=_dropped)


def _fast_path(fast: bool) -> bool:
    """Whether to take the fast path: asked for, and allowed by fastld's fence. Raises (fails
    closed) when the installed pyld changed the hooks safe mode and RDFC-1.0 rely on."""
    fence = fastld.fence()
    if not fence.safe:
        raise ProofTransformationError(fence.refusal())
    return fast and fence.fast


def _reraise(e: BaseException) -> ProblemError:
    """Turn a pyld failure into PROOF_TRANSFORMATION_ERROR, keeping our own cause if it has one
    (an unknown context URL raised by the loader, a safe-mode refusal)."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, ProblemError):
            return cause
        cause = cause.__cause__ or cause.__context__
    if isinstance(e, RecursionError):
        return ProofTransformationError("the document is nested too deeply to process")
    if isinstance(e, _pyld.JsonLdError):
        code = getattr(e, "code", None)
        details = getattr(e, "details", None)
        if code == "protected term redefinition":
            context = details.get("context") if isinstance(details, dict) else None
            terms = sorted(context) if isinstance(context, dict) else []
            detail = "a @context redefines a protected term" + (f" (in a context defining {', '.join(terms)})" if terms else "")
        else:
            detail = f"JSON-LD processing failed: {e}" + (f" ({code})" if code else "")
        return ProofTransformationError(detail, jsonldCode=code)
    return ProofTransformationError(f"JSON-LD processing failed: {type(e).__name__}: {e}")


def expand(document: JsonObject, *, loader: DocumentLoader, fast: bool = True) -> list[Any]:
    """JSON-LD 1.1 expansion in safe mode (raises ProofTransformationError)."""
    if not isinstance(document, dict):
        raise ProofTransformationError("a JSON-LD document must be a JSON object")
    fast = _fast_path(fast)
    try:
        if fast:
            cache, fast_processor = _fast(loader)
            expanded = fastld.expand(document, cache, processor=fast_processor, base=None)
        else:
            processor = _SafeProcessor(on_property_dropped=_dropped)
            with _plain(loader)[1]:
                expanded = processor.expand(document, _options(loader))
        _check_expanded(expanded)
    except Exception as e:  # pyld raises many kinds; all become one problem type here
        raise _reraise(e) from e
    if not expanded:
        raise ProofTransformationError("the document expands to nothing: no property is defined by its @context")
    return expanded


def to_rdf(document: JsonObject, *, loader: DocumentLoader, fast: bool = True) -> dict[str, list[Any]]:
    """The RDF dataset of a document (pyld's dataset form), after a safe-mode expansion."""
    expanded = expand(document, loader=loader, fast=fast)
    try:
        with _plain(loader)[1]:
            return _pyld.JsonLdProcessor().to_rdf(expanded, _options(loader))
    except Exception as e:
        raise _reraise(e) from e


def canonize(document: JsonObject, *, loader: DocumentLoader, fast: bool = True) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, in safe mode.

    https://www.w3.org/TR/rdf-canon/ ; raises ProofTransformationError (including
    CanonicalizationLimitError for graphs too costly to canonicalize). ``fast=False`` takes
    the plain pyld path (same output; for differential tests and the benchmark).
    """
    if not _fast_path(fast):
        return canonize_dataset(to_rdf(document, loader=loader, fast=False))
    expanded = expand(document, loader=loader)
    try:
        # Whatever the fast path cannot settle (alike blank nodes, lists, graphs, a limit
        # exceeded) goes to canonize_dataset below, with its limits and bounded RDFC-1.0.
        return fastld.canonize_expanded(expanded, fallback=canonize_dataset, rdfDirection=RDF_DIRECTION,
                                        max_blank_nodes=MAX_BLANK_NODES, max_quads=MAX_QUADS)
    except ProblemError:
        raise
    except Exception as e:
        raise _reraise(e) from e


def canonize_proof_configuration(config: JsonObject, *, loader: DocumentLoader, fast: bool = True) -> str:
    """``canonize`` for a Data Integrity proof configuration (VC DI EdDSA §3.2.5), remembered.

    A verifier sees the same proof options again and again (the same proof re-verified, a batch
    signed at one time by one key), and they are a quarter of an eddsa-rdfc-2022 verify. The
    canonical form is a pure function of the JSON and of the loader's pinned contexts, so it is
    kept per loader, keyed by the exact JSON text (key order and number types included); only
    successes are kept, so a refused configuration is refused every time.

    Proofs new to the verifier mostly differ from earlier ones only in ``created`` (and
    ``expires``): see ``_timestamp_template`` for how those reuse one canonical form.
    """
    if not _fast_path(fast):
        return canonize(config, loader=loader, fast=False)
    try:
        key = json.dumps(config, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return canonize(config, loader=loader)
    cache, _ = _fast(loader)
    with cache.lock:
        hit = cache.proof_configurations.get(key)
    if hit is None:
        hit = _timestamp_template(config, loader=loader)
        if hit is None:
            hit = canonize(config, loader=loader)
        with cache.lock:
            cache.proof_configurations[key] = hit
    return hit


# Placeholders for the timestamps of a proof configuration: valid dateTimes no real proof uses.
_TEMPLATE_SLOTS = {"created": "1000-01-01T00:00:00Z", "expires": "1000-01-02T00:00:00Z"}
_TEMPLATE_SCALARS = frozenset({"type", "cryptosuite", "verificationMethod", "proofPurpose", "domain", "challenge", "nonce"})


def _timestamp_template(config: JsonObject, *, loader: DocumentLoader) -> str | None:
    """The canonical form of ``config`` from a cached one of the same configuration with
    placeholder timestamps, or None when that shortcut does not apply.

    Sound because of the shape it is limited to: one node whose values are strings (no nested
    objects, so exactly one blank node, always ``_:c14n0``), and each timestamp the only value
    of its property. The timestamp then sits in one N-Quads line whose sort position is fixed by
    the predicate IRI before it (no other line shares subject and predicate), so substituting the
    escaped literal text is exactly what RDFC-1.0 would produce. Safe-mode checks are unaffected:
    they depend on terms and types, not on literal text. tests/vc/test_fast_canon.py holds this
    equal to the full algorithm, odd characters included.
    """
    stamps = {k: config[k] for k in _TEMPLATE_SLOTS if k in config}
    if not stamps or not all(isinstance(v, str) for v in stamps.values()):
        return None
    for k, v in config.items():
        if k == "@context" or k in stamps:
            continue
        if k not in _TEMPLATE_SCALARS or not (
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        ):
            return None
    placeholder = {**config, **{k: _TEMPLATE_SLOTS[k] for k in stamps}}
    key = "template:" + json.dumps(placeholder, ensure_ascii=False, allow_nan=False)
    cache, _ = _fast(loader)
    with cache.lock:
        template = cache.proof_configurations.get(key)
    if template is None:
        template = canonize(placeholder, loader=loader)
        with cache.lock:
            cache.proof_configurations[key] = template
    out = template
    for k, value in stamps.items():
        token = '"' + _TEMPLATE_SLOTS[k] + '"'
        if template.count(token) != 1:
            return None  # a context mapped the timestamp somewhere unexpected: no shortcut
        out = out.replace(token, '"' + fastld.escape_literal(value) + '"')
    return out


def canonize_dataset(dataset: dict[str, list[Any]]) -> str:
    """RDFC-1.0 of an RDF dataset in pyld's form, within the work limits."""
    _fast_path(False)  # refuses when the installed pyld's URDNA2015 hooks changed
    quads = sum(len(triples) for triples in dataset.values())
    if quads > MAX_QUADS:
        raise CanonicalizationLimitError(f"the document has {quads} RDF statements; at most {MAX_QUADS} are accepted")
    try:
        return _BoundedRDFC10().main(dataset, {"algorithm": ALGORITHM, "format": NQUADS})
    except ProblemError:
        raise
    except RecursionError as e:
        raise CanonicalizationLimitError("the graph's blank nodes are nested too deeply to canonicalize") from e


# fastld.RDFC10 is pyld's URDNA2015 with the canonical N-Quads escaping RDFC-1.0 requires (pyld
# writes control characters raw, so a JavaScript verifier hashed different bytes) and each quad
# listed once per blank node; both the fast and the plain path canonicalize through it.
class _BoundedRDFC10(fastld.RDFC10):  # type: ignore[misc]
    """pyld's RDFC-1.0 with rdf-canonize's work limits."""

    def __init__(self) -> None:
        super().__init__()
        self._remaining: int | None = None
        self._permutations = 0

    def hash_first_degree_quads(self, id_: str) -> str:
        if len(self.blank_node_info) > MAX_BLANK_NODES:
            raise CanonicalizationLimitError(
                f"the document has {len(self.blank_node_info)} blank nodes; at most {MAX_BLANK_NODES} are accepted"
            )
        return super().hash_first_degree_quads(id_)  # type: ignore[no-any-return]

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        if self._remaining is None:
            # First call: step 5 is done, and the hash-to-blank-nodes map holds exactly the
            # blank nodes that first-degree hashing could not tell apart.
            non_unique = sum(len(ids) for ids in self.hash_to_blank_nodes.values())
            self._remaining = non_unique**MAX_WORK_FACTOR
        if self._remaining <= 0:
            raise CanonicalizationLimitError(
                "canonicalizing this document takes too much work (RDFC-1.0 deep iteration limit exceeded); "
                "it has blank nodes that cannot be told apart"
            )
        self._remaining -= 1
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        # The permutations pyld walks, counted as it walks them. A related list holds a node once
        # per quad linking it, so len(nodes)! overstated the work by orders of magnitude (two
        # near-identical micro-credentials in one presentation: 28,480 against 96 walked) and
        # refused presentations the JavaScript stack signs.
        return {h: _CountedPermutations(nodes, self) for h, nodes in super().create_hash_to_related(id_, issuer).items()}

    def count_permutation(self) -> None:
        self._permutations += 1
        if self._permutations > MAX_PERMUTATIONS:
            raise CanonicalizationLimitError(
                "canonicalizing this document takes too much work (RDFC-1.0 permutation limit exceeded); "
                "it has blank nodes that cannot be told apart"
            )


class _CountedPermutations(list):  # type: ignore[type-arg]
    """A related-blank-node list of Hash N-Degree Quads (RDFC-1.0 §4.8.3 step 5.4): pyld's
    permutation generator reorders it in place and yields it once per permutation, which step
    5.4.4 then iterates, so each iteration is one permutation walked."""

    def __init__(self, nodes: list[str], owner: _BoundedRDFC10) -> None:
        super().__init__(nodes)
        self._owner = owner

    def __iter__(self) -> Any:
        self._owner.count_permutation()
        return super().__iter__()


# --- context validation for suites that do not read JSON-LD (eddsa-jcs-2022) ----------------------
#
# VC Data Integrity 1.0 §2.4.1 / §4.6: a verifier MUST validate a secured document's contexts,
# whatever the cryptosuite. RDFC suites do it while canonicalizing (an unknown context cannot be
# loaded, a protected term cannot be redefined). JCS signs the JSON text, so nothing in the proof
# would notice; this does it instead, cheaply enough for jcs's speed (bench/bench_vc.py):
#
# 1. every URL in @context must be a context the loader pins (a set lookup);
# 2. the @context value as a whole is processed once per loader and remembered: that is where
#    an inline context redefining a protected term (or naming an unknown context) fails;
# 3. a document whose contexts can change meaning only during expansion (an embedded @context
#    below the top, an inline term with its own scoped context, @protected, @import,
#    @propagate) is expanded in full, as at issue.
#
# Undefined terms are not refused here: JCS signs them, and the JavaScript reference accepts
# them; issuing refuses them (vc.proofs.add_proof) because a JSON-LD reader would drop them.

_CONTEXT_MEMO_SIZE = 256
_context_memos: "weakref.WeakKeyDictionary[Any, LRU[Any, tuple[bool, BaseException | None]]]" = weakref.WeakKeyDictionary()
# Keywords of an inline context or term definition whose effect shows only when expanding.
_EXPANSION_TIME = frozenset({"@context", "@import", "@propagate", "@protected"})


def validate_contexts(document: Mapping[str, Any], *, loader: DocumentLoader) -> None:
    """Refuse a document whose JSON-LD contexts are unknown or change a protected term's
    meaning (PROOF_TRANSFORMATION_ERROR); a document without @context is plain JSON."""
    context = document.get("@context")
    if context is None:
        return
    needs_expansion = _context_verdict(context, loader)
    if needs_expansion or _embedded_contexts(document, context):
        try:
            with _plain(loader)[1]:  # pyld's shared context cache is not thread-safe
                _pyld.JsonLdProcessor().expand(dict(document), _options(loader))
        except Exception as e:
            raise _reraise(e) from e


def _context_verdict(context: Any, loader: DocumentLoader) -> bool:
    """Whether the document must be expanded in full; raises when the @context itself is bad.
    Remembered per loader and @context value (failures too: pinned contexts never change)."""
    items = context if isinstance(context, list) else [context]
    if all(isinstance(item, str) for item in items):
        key: Any = tuple(items)
    else:
        try:
            key = json.dumps(context, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ProofTransformationError(f"the @context is not JSON: {e}") from e
    try:
        memo = _context_memos[loader]
    except (KeyError, TypeError):  # TypeError: a loader that cannot be weakly referenced
        memo = LRU(_CONTEXT_MEMO_SIZE)
        try:
            memo = _context_memos.setdefault(loader, memo)
        except TypeError:
            pass
    hit = memo.get(key)
    if hit is None:
        try:
            hit = (_judge_context(items, loader), None)
        except ProblemError as e:
            hit = (False, e)
        memo[key] = hit
    needs_expansion, error = hit
    if error is not None:
        raise copy.copy(error)
    return needs_expansion


def _judge_context(items: list[Any], loader: DocumentLoader) -> bool:
    needs_expansion = False
    for i, item in enumerate(items):
        if isinstance(item, str):
            if not _pinned(item, loader):
                raise UnknownContextError(item)
        elif isinstance(item, dict):
            needs_expansion = needs_expansion or _changes_meaning_when_expanding(item)
        elif item is not None:
            raise ProofTransformationError(f"@context[{i}] must be a URL or a context object, got {type(item).__name__}")
    try:
        # Processing the context is what refuses a protected term's redefinition, an invalid
        # term definition, or an @import of an unknown context.
        with _plain(loader)[1]:
            _pyld.JsonLdProcessor().expand({"@context": items}, _options(loader))
    except Exception as e:
        raise _reraise(e) from e
    return needs_expansion


def _pinned(url: str, loader: DocumentLoader) -> bool:
    contains = getattr(loader, "__contains__", None)
    if contains is not None:
        return bool(contains(url))
    try:
        loader(url, {})
    except Exception:
        return False
    return True


def _changes_meaning_when_expanding(inline: Mapping[str, Any]) -> bool:
    if _EXPANSION_TIME & inline.keys():
        return True
    return any(isinstance(d, dict) and _EXPANSION_TIME & d.keys() for d in inline.values())


def _embedded_contexts(document: Mapping[str, Any], top: Any) -> bool:
    """Whether an @context appears below the top level, other than a jcs proof's own copy of
    the document's (eddsa-jcs-2022 §3.3.1 puts it there)."""
    stack: list[Any] = [v for k, v in document.items() if k not in ("@context", "proof")]
    proofs = document.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, dict):
            if "@context" in proof and not _starts_with(top, proof["@context"]):
                return True
            stack.extend(v for k, v in proof.items() if k != "@context")
        elif proof is not None:
            stack.append(proof)
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if "@context" in item:
                return True
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return False


def _starts_with(context: Any, prefix: Any) -> bool:
    have = context if isinstance(context, list) else [context]
    wanted = prefix if isinstance(prefix, list) else [prefix]
    return have[: len(wanted)] == wanted
