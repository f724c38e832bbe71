"""Bitstring Status List v1.0: allocate, encode, publish, check."""
