"""DID resolution options and DID parameters: which a resolver implements, and the errors for
the rest.

DID Resolution v1 §4 (DID Resolution Algorithm), steps 3 and 4: resolution options the resolver
does not support are ``featureNotSupported``, invalid ones ``invalidOptions``; an ``accept``
naming no representation the resolver produces is ``representationNotSupported`` (DID Core 1.0
§7.1.2). Ignoring an option would hand the caller a document other than the one it asked for
(another version, another context). DID parameters in a DID URL (DID Core 1.0 §3.2.1: ``service``,
``versionId`` ...) are resolution options too (DID Resolution v1 §5), so the same rule holds.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl

from did.document import DID_JSON, DID_LD_JSON
from did.errors import FeatureNotSupported, InvalidOptions, RepresentationNotSupported

# DID Core 1.0 §3.2.1's DID parameters, and DID Resolution v1's serviceType. This resolver
# implements none of them: the documents of did:key and did:web have no versions, and service
# selection is not implemented.
DID_PARAMETERS = ("service", "serviceType", "relativeRef", "versionId", "versionTime", "hl")
# What an ``accept`` may ask for: the two representations DID Core 1.0 defines (§6.2, §6.3),
# and DID Resolution v1's media type for a DID document in general.
REPRESENTATIONS = (DID_LD_JSON, DID_JSON, "application/did")


def check_resolution_options(options: Mapping[str, Any] | None, supported: Iterable[str], method: str) -> None:
    """Refuse what a did:``method`` resolver implementing ``supported`` (besides ``accept``)
    cannot honour: ``featureNotSupported`` naming the option, or the ``accept`` errors."""
    if not options:
        return
    allowed = tuple(supported)
    for name, value in options.items():
        if name == "accept":
            check_accept(value)
        elif name not in allowed:
            offered = ", ".join(("accept", *allowed))
            raise FeatureNotSupported(
                f"the resolution option {name!r} is not supported for did:{method} (supported: {offered})"
            )


def check_accept(value: Any) -> None:
    """``accept`` is an Accept header value (RFC 9110 §12.5.1; DID Resolution v1 §4.1) that must
    admit one of ``REPRESENTATIONS``."""
    if not isinstance(value, str) or not value.strip() or not value.isascii():
        raise InvalidOptions(f"accept must be a media type, as an Accept header writes it; got {value!r}")
    for item in value.split(","):
        kind, *params = (part.strip().lower() for part in item.split(";"))
        if _weight(params) > 0 and (kind in ("*/*", "application/*") or kind in REPRESENTATIONS):
            return
    raise RepresentationNotSupported(
        f"accept {value!r} names no representation this resolver produces ({', '.join(REPRESENTATIONS)})"
    )


def _weight(params: list[str]) -> float:
    """A media range's q-value (RFC 9110 §12.4.2; 0 means "not acceptable"), 1 when absent."""
    for param in params:
        name, _, text = param.partition("=")
        if name.strip() == "q":
            try:
                return float(text.strip())
            except ValueError:
                return 0.0
    return 1.0


def check_did_parameters(query: str | None, did_url: str) -> None:
    """``featureNotSupported`` for a DID URL carrying DID parameters (they are resolution options
    this resolver does not implement); other queries are left to the caller (``notFound``)."""
    if query is None:
        return
    named = sorted({name for name, _ in parse_qsl(query, keep_blank_values=True) if name in DID_PARAMETERS})
    if named:
        what = f"DID parameter {named[0]} is" if len(named) == 1 else f"DID parameters {', '.join(named)} are"
        raise FeatureNotSupported(f"the {what} not supported by this resolver ({did_url[:200]!r})")
