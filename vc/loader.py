"""The JSON-LD context loader: pinned contexts served from memory, never from the network.

JSON-LD 1.1 API §9.4 (LoadDocumentCallback). The shipped contexts live in ``vc/contexts/`` with
``MANIFEST.json`` (URL, file, origin, SHA-256); an operator may pin more from a folder holding
its own ``MANIFEST.json``. Every file's SHA-256 is checked when the loader is built, so a context
that changed on disk is refused rather than silently changing what signatures mean.

A ``ContextLoader`` is a pyld ``documentLoader``: calling it with a URL returns a RemoteDocument
dict. It is synchronous and holds everything in memory, so pyld can call it from any thread.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Iterator, Mapping

from did.cache import json_copy
from vc.errors import ProofTransformationError

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
MANIFEST = "MANIFEST.json"


class UnknownContextError(ProofTransformationError):
    """A document names a JSON-LD context that is not pinned (VC Data Integrity 1.0 §2.2)."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"the JSON-LD context {url!r} is not one this node has pinned; contexts are never fetched "
            "from the network (an operator can pin it with extra_dir)",
            url=url,
        )
        self.url = url


class ContextManifestError(Exception):
    """A context folder or its manifest is unusable (operator configuration error)."""


class _Pinned:
    __slots__ = ("url", "data", "document", "published")

    def __init__(self, url: str, data: bytes, document: Any, published: list[Mapping[str, str]]) -> None:
        self.url, self.data, self.document, self.published = url, data, document, published


def _read_manifest(folder: Path) -> list[Mapping[str, Any]]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ContextManifestError(f"cannot read the context manifest {path}: {e}") from e
    entries = manifest.get("contexts") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        raise ContextManifestError(f"{path}: expected an object with a 'contexts' list of {{url, file, sha256}}")
    return entries


def _load_folder(folder: Path) -> Iterator[_Pinned]:
    for i, entry in enumerate(_read_manifest(folder)):
        url, file, sha = (entry.get(k) if isinstance(entry, dict) else None for k in ("url", "file", "sha256"))
        if not (isinstance(url, str) and isinstance(file, str) and isinstance(sha, str)):
            raise ContextManifestError(f"{folder / MANIFEST}: entry {i} needs string 'url', 'file' and 'sha256'")
        path = (folder / file).resolve()
        if path.parent != folder.resolve():
            raise ContextManifestError(f"{folder / MANIFEST}: {file!r} must be a file directly in {folder}")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ContextManifestError(f"cannot read the context file {path} for {url}: {e}") from e
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha.lower():
            raise ContextManifestError(
                f"the context file {path} for {url} has SHA-256 {actual}, but the manifest pins {sha}"
            )
        try:
            document = json.loads(data)
        except ValueError as e:
            raise ContextManifestError(f"the context file {path} for {url} is not JSON: {e}") from e
        if not isinstance(document, dict) or "@context" not in document:
            raise ContextManifestError(f"the context file {path} for {url} has no top-level @context")
        yield _Pinned(url, data, document, list(entry.get("publishedDigests", [])))


class ContextLoader:
    """Serves pinned JSON-LD contexts (the shipped ones, plus ``extra_dir``'s) from memory.

    ``documents`` adds inline contexts (URL to parsed JSON), for tests and embedders.
    """

    def __init__(self, *, extra_dir: str | Path | None = None, documents: Mapping[str, Any] | None = None) -> None:
        self._pinned: dict[str, _Pinned] = {}
        for pinned in _load_folder(CONTEXTS_DIR):
            self._pinned[pinned.url] = pinned
        extras: list[_Pinned] = list(_load_folder(Path(extra_dir))) if extra_dir is not None else []
        for url, document in (documents or {}).items():
            data = json.dumps(document, sort_keys=True).encode("utf-8")
            extras.append(_Pinned(url, data, json_copy(document), []))
        for pinned in extras:
            # Two meanings for one URL would let the same signed bytes verify differently.
            if pinned.url in self._pinned:
                raise ContextManifestError(f"the context {pinned.url} is already pinned and cannot be replaced")
            self._pinned[pinned.url] = pinned

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the pyld RemoteDocument for ``url``, or raise ``UnknownContextError``."""
        pinned = self._pinned.get(url)
        if pinned is None:
            raise UnknownContextError(url)
        # pyld resolves relative URLs inside a fetched context in place; hand it a copy so the
        # pinned document can never change.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json_copy(pinned.document),
            # Pinned contexts never change, so pyld may keep their processed form across calls.
            "tag": "static",
        }

    def __contains__(self, url: object) -> bool:
        return url in self._pinned

    def urls(self) -> list[str]:
        return sorted(self._pinned)

    def document(self, url: str) -> Any:
        """The parsed context (a copy)."""
        if url not in self._pinned:
            raise UnknownContextError(url)
        return json_copy(self._pinned[url].document)

    def raw_bytes(self, url: str) -> bytes:
        if url not in self._pinned:
            raise UnknownContextError(url)
        return self._pinned[url].data

    def digests(self, url: str, algorithm: str = "sha256") -> frozenset[bytes]:
        """Digests accepted for the context at ``url``: of the pinned bytes, and of the other
        byte-serializations published for it (e.g. the W3C's), recorded in the manifest.

        Empty when ``url`` is not pinned. ``algorithm`` is a hashlib name (sha256, sha384, sha512).
        """
        pinned = self._pinned.get(url)
        if pinned is None:
            return frozenset()
        out = {hashlib.new(algorithm, pinned.data).digest()}
        for published in pinned.published:
            value = published.get(algorithm)
            if isinstance(value, str):
                out.add(bytes.fromhex(value))
        return frozenset(out)


@functools.cache
def default_loader() -> ContextLoader:
    """The loader of the shipped contexts (built once per process)."""
    return ContextLoader()


def published_digests(url: str, algorithm: str = "sha256") -> frozenset[bytes]:
    """``default_loader().digests(url, algorithm)``: accepted digests of a shipped context."""
    return default_loader().digests(url, algorithm)
