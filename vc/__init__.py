"""Verifiable Credentials: data model checks, JSON-LD context loading, Data Integrity
proofs, cryptosuites, credentials and presentations. See docs/CONTRACTS.md."""
