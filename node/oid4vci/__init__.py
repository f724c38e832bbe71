"""OpenID for Verifiable Credential Issuance 1.0: the node hands micro-credentials to wallets
(docs/wallets.md). ``issuer`` is the capability (``Node.oid4vci``), ``metadata`` the documents
a wallet reads first, ``proofs`` the wallet's key proof, ``qr`` the offer's QR code, ``errors``
the OAuth-style refusals."""

from node.oid4vci.errors import OAuthError
from node.oid4vci.issuer import (
    CredentialIssuer,
    InsecureIssuerError,
    NewOffer,
    OfferedAlreadyError,
    OfferState,
    TxCode,
    UnknownOfferError,
)

__all__ = [
    "CredentialIssuer",
    "InsecureIssuerError",
    "NewOffer",
    "OAuthError",
    "OfferedAlreadyError",
    "OfferState",
    "TxCode",
    "UnknownOfferError",
]
