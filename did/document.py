"""What makes a DID document conforming, and which representation's media type it carries.

``check_did_document``: DID Core 1.0 §4 (Data Model) and §5 (Core Properties), as far as the
shapes of the core properties go; the resolver applies it to every document it hands out (§7.1:
``didDocument`` "MUST be ... capable of being transformed into a conforming DID Document";
§6.1: a conforming consumer "MUST produce errors when consuming non-conforming ... DID
documents"; Controlled Identifiers 1.0 §3.3 refuses a non-conforming controller document).

``media_type``: DID Core 1.0 §6.2.1 / §6.3.1, the media type of a document's JSON serialization:
``application/did+ld+json`` when it is the JSON-LD representation (its ``@context`` is, or begins
with, the DID context), ``application/did+json`` otherwise.

Left to the callers that use them: verification material (``public_key_of``), a method's
``revoked``/``expires`` (``resolve_verification_method``), whether relative DID URLs are allowed.
"""

from __future__ import annotations

from typing import Any, Mapping

from did.errors import DIDError, InvalidDIDDocument
from did.syntax import absolute_did_url, parse_did

DID_JSON = "application/did+json"
DID_LD_JSON = "application/did+ld+json"
# DID Core 1.0 §6.3.1 names v1; DID Core 1.1 keeps that and adds its own.
DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://www.w3.org/ns/did/v1.1")
RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation")


def media_type(document: Mapping[str, Any]) -> str:
    """The media type of ``document`` serialized as it is (DID Core 1.0 §6.2.1, §6.3.1)."""
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    return DID_LD_JSON if first in DID_CONTEXTS else DID_JSON


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_did_document(document: Any, did: str) -> dict[str, Any]:
    """``document`` if it is a conforming DID document for ``did``; else ``InvalidDIDDocument``
    (``invalidDidDocument``) naming the property at fault."""
    if not isinstance(document, dict):
        raise InvalidDIDDocument(f"the DID document of {did} is not a JSON object (DID Core 1.0 §6.2.2)")
    if document.get("id") != did:
        raise InvalidDIDDocument(f"the DID document's id {document.get('id')!r} is not the DID {did!r} (DID Core 1.0 §7.1)")

    def fault(what: str) -> InvalidDIDDocument:
        return InvalidDIDDocument(f"the DID document of {did} is not conforming: {what}")

    # §5.1.2: a string or a set of strings, each a DID.
    controller = document.get("controller")
    if "controller" in document:
        if not (isinstance(controller, str) or _is_strings(controller)):
            raise fault("controller must be a DID or a set of DIDs (DID Core 1.0 §5.1.2)")
        for value in [controller] if isinstance(controller, str) else controller:
            try:
                parse_did(value)
            except DIDError:
                raise fault(f"controller {value[:100]!r} is not a DID (DID Core 1.0 §5.1.2)") from None
    # §5.1.3: a set of URIs.
    if "alsoKnownAs" in document and not _is_strings(document["alsoKnownAs"]):
        raise fault("alsoKnownAs must be a set of URI strings (DID Core 1.0 §5.1.3)")
    # §5.2: a set of verification method maps, each with id, type and controller.
    methods = document.get("verificationMethod")
    if "verificationMethod" in document:
        if not isinstance(methods, list):
            raise fault("verificationMethod must be a set of verification methods (DID Core 1.0 §5.2)")
        for method in methods:
            _check_method(method, "verificationMethod", fault)
    # §5.3: each relationship a set of verification methods, by reference or embedded.
    for relationship in RELATIONSHIPS:
        if relationship not in document:
            continue
        entries = document[relationship]
        if not isinstance(entries, list):
            raise fault(f"{relationship} must be a set of verification methods or references to them (DID Core 1.0 §5.3)")
        for entry in entries:
            if not isinstance(entry, str):
                _check_method(entry, relationship, fault)
    if "service" in document:
        _check_services(document["service"], did, fault)
    return document


def _check_method(method: Any, where: str, fault: Any) -> None:
    """DID Core 1.0 §5.2: a verification method is a map with string id, type and controller."""
    if not isinstance(method, dict):
        raise fault(f"an entry of {where} is neither a verification method map nor a reference (DID Core 1.0 §5.2)")
    for name in ("id", "type", "controller"):
        if not isinstance(method.get(name), str) or not method[name]:
            shown = method.get("id") if isinstance(method.get("id"), str) else "an entry"
            raise fault(f"{shown!r} of {where} has no {name} (a string); DID Core 1.0 §5.2 requires id, type and controller")


def _check_services(services: Any, did: str, fault: Any) -> None:
    """DID Core 1.0 §5.4: a set of maps, each with an id, a type (string or set of strings) and a
    serviceEndpoint (string, map, or set of strings and maps); no two with the same id ("A
    conforming consumer MUST produce an error if it detects multiple service entries with the
    same id"), relative ids compared once made absolute."""
    if not isinstance(services, list):
        raise fault("service must be a set of services (DID Core 1.0 §5.4)")
    seen: set[str] = set()
    for service in services:
        if not isinstance(service, dict):
            raise fault("an entry of service is not a map (DID Core 1.0 §5.4)")
        service_id = service.get("id")
        if not isinstance(service_id, str) or not service_id:
            raise fault("a service has no id (a URI string); DID Core 1.0 §5.4 requires id, type and serviceEndpoint")
        kind = service.get("type")
        if not (isinstance(kind, str) and kind) and not (_is_strings(kind) and kind):
            raise fault(f"service {service_id!r} has no type (a string or a set of strings; DID Core 1.0 §5.4)")
        endpoint = service.get("serviceEndpoint")
        if not (
            isinstance(endpoint, (str, dict))
            or (isinstance(endpoint, list) and endpoint and all(isinstance(e, (str, dict)) for e in endpoint))
        ):
            raise fault(
                f"service {service_id!r} has no serviceEndpoint (a string, a map, or a set of them; DID Core 1.0 §5.4)"
            )
        absolute = absolute_did_url(service_id, did)
        if absolute in seen:
            raise fault(f"two services have the id {absolute!r}; DID Core 1.0 §5.4 forbids it")
        seen.add(absolute)
