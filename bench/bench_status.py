"""Bitstring Status List speed and size: python3 bench/bench_status.py

Not a test (speed targets live here, never in timed tests). Prints, at GZIP levels 6 and 9:

- checking one credential's status against an already cached list (target: well under 100 µs),
  both the whole ``StatusChecker`` call and the bare ``Bitstring.get``;
- decoding a 131,072-entry ``encodedList``;
- re-publishing after one revocation (set the bit, encode, sign with eddsa-rdfc-2022) for
  131,072 entries (target < 20 ms) and 16,777,216 entries (target < 200 ms);
- encoded sizes, for an empty list and for one with 1% of entries set at random.

Everything runs in memory: the list is served by a stub with GuardedHTTP's ``get_json`` shape,
the signature is real (vc.credentials / eddsa-rdfc-2022, did:key resolver).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from status import bitstring  # noqa: E402
from status.bitstring import Bitstring, decode_list  # noqa: E402
from status.check import StatusChecker  # noqa: E402
from status.credential import issue_status_list_credential, status_list_entry  # noqa: E402

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
SMALL, LARGE = 131_072, 16_777_216
LEVELS = (6, 9)


def timed(fn: Callable[[], Any], *, repeat: int, number: int = 1) -> tuple[float, float]:
    """(median, min) seconds per call over ``repeat`` rounds of ``number`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples), min(samples)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    return f"{seconds * 1e3:8.2f} ms"


def filled(length: int, fraction: float, seed: int = 4) -> Bitstring:
    bits = Bitstring(length)
    rng = random.Random(seed)
    for index in rng.sample(range(length), int(length * fraction)):
        bits.set(index, 1)
    return bits


@dataclass
class _Fetched:
    url: str
    status: int
    headers: dict[str, str]
    data: Any
    max_age: int | None


class _ServeOne:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    async def get_json(self, url: str, *, max_bytes: int | None = None) -> _Fetched:
        return _Fetched(url, 200, {}, self.document, 300)


def _signing_setup() -> tuple[Any, str, str, Any, Any]:
    from did.key import DIDKeyResolver, did_key_from_public_key
    from did.resolver import Resolver
    from vc.crypto import Ed25519KeyPair
    from vc.loader import default_loader

    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{did.split(':')[-1]}"
    return key, did, vm, default_loader(), Resolver({"key": DIDKeyResolver()})


def main() -> None:
    print(f"python {sys.version.split()[0]}; times are median (min) per operation\n")
    key, did, vm, loader, resolver = _signing_setup()
    url = "https://issuer.example/status/1"

    def publish(bits: Bitstring, level: int) -> dict[str, Any]:
        return issue_status_list_credential(
            list_url=url, issuer=did, purpose="revocation", bitstring=bits,
            key=key, verification_method=vm, now=NOW, loader=loader, gzip_level=level,
        )

    print("encoded sizes (characters of encodedList)")
    for length in (SMALL, LARGE):
        for fraction in (0.0, 0.001, 0.01):
            bits = filled(length, fraction)
            sizes = ", ".join(f"level {lv}: {len(bits.encode(level=lv)):>9,}" for lv in LEVELS)
            print(f"  {length:>10,} entries, {fraction:5.1%} set: {sizes}")

    print("\nfirst encoding, nothing cached (GZIP + base64url), 1% set")
    for length in (SMALL, LARGE):
        data = filled(length, 0.01).to_bytes()
        for level in LEVELS:
            def scratch() -> None:
                bitstring._MEMO.clear()  # measure compression itself, not the block memo
                Bitstring.from_bytes(data).encode(level=level)

            med, best = timed(scratch, repeat=3 if (length == LARGE and level == 9) else 7)
            print(f"  {length:>10,} entries, level {level}: {fmt(med)} ({fmt(best)})")

    print("\ndecode a 131,072-entry list (base64url + gunzip + wrap)")
    for fraction in (0.0, 0.01):
        encoded = filled(SMALL, fraction).encode()
        med, best = timed(lambda: Bitstring.decode(encoded), repeat=50, number=20)
        print(f"  {fraction:4.0%} set: {fmt(med)} ({fmt(best)})")
    encoded_large = filled(LARGE, 0.01).encode()
    med, best = timed(lambda: decode_list(encoded_large), repeat=7)
    print(f"  (16,777,216 entries, 1% set: {fmt(med)} ({fmt(best)}))")

    print("\nre-publish after one revocation (set bit + encode + sign eddsa-rdfc-2022); targets 20 ms / 200 ms")
    print("  warm = the Bitstring object is kept between revocations (only changed 64 KiB blocks recompressed)")
    print("  cold = rebuilt from stored bytes each time (Bitstring.from_bytes, as node/statuslists.py does);")
    print("         unchanged blocks come from the block memo, the changed one is recompressed")
    rng = random.Random(7)
    for length in (SMALL, LARGE):
        for fraction in (0.0, 0.001, 0.01):
            bits = filled(length, fraction)
            publish(bits, 6)  # warm the context caches once
            for level in LEVELS:
                def warm() -> None:
                    bits.set(rng.randrange(length), 1)
                    publish(bits, level)

                def cold() -> None:
                    fresh = Bitstring.from_bytes(bits.to_bytes())
                    fresh.set(rng.randrange(length), 1)
                    publish(fresh, level)

                publish(bits, level)
                rounds = 5 if length == LARGE else 25
                w_med, w_best = timed(warm, repeat=rounds)
                c_med, c_best = timed(cold, repeat=3 if (length == LARGE and level == 9) else rounds)
                print(
                    f"  {length:>10,} entries, {fraction:5.1%} set, level {level}: "
                    f"warm {fmt(w_med)} ({fmt(w_best)})   cold {fmt(c_med)} ({fmt(c_best)})"
                )

    print("\ncheck one credential against a cached list (target well under 100 µs)")
    bits = filled(SMALL, 0.01)
    listed = publish(bits, 6)
    clock = lambda: NOW  # noqa: E731
    checker = StatusChecker(_ServeOne(listed), resolver, loader, clock)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:s"},
        "credentialStatus": status_list_entry(list_url=url, index=94_567, purpose="revocation"),
    }

    async def run() -> None:
        first = await checker(credential)
        if first[0].outcome not in ("passed", "failed"):
            raise SystemExit(f"the benchmark list does not verify: {first[0].to_json()}")
        loop_count = 2000
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            for _ in range(loop_count):
                await checker(credential)
            samples.append((time.perf_counter() - start) / loop_count)
        print(f"  StatusChecker call, cache hit: {fmt(statistics.median(samples))} ({fmt(min(samples))})")

    asyncio.run(run())
    decoded = Bitstring.decode(listed["credentialSubject"]["encodedList"])
    med, best = timed(lambda: decoded.get(94_567), repeat=30, number=10_000)
    print(f"  Bitstring.get alone:           {fmt(med)} ({fmt(best)})")


if __name__ == "__main__":
    main()
