"""DID parsing, did:key, did:web, the resolver interface and DID URL dereferencing.

Knows nothing about credentials. See docs/CONTRACTS.md for the public surface.
"""
