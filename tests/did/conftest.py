"""A real aiohttp server on 127.0.0.1 serving did:web documents in every shape the guard must handle."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from aiohttp import web

from did.http import GuardedHTTP, create_guarded_session


def did_for(request: web.Request, *path: str) -> str:
    return ":".join(["did:web:" + request.host.replace(":", "%3A"), *path])


def document(did: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": "#key-1",  # relative, as many did:web documents write it
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            }
        ],
        "assertionMethod": ["#key-1"],
        "authentication": [did + "#key-1"],
    }


class DIDWebApp:
    """Handlers, plus a hit counter per path so cache tests can see what reached the server."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.app = web.Application()
        r = self.app.router
        r.add_get("/.well-known/did.json", self.root)
        r.add_get("/user/alice/did.json", self.alice)
        r.add_get("/wrong-id/did.json", self.wrong_id)
        r.add_get("/big/did.json", self.big)
        r.add_get("/big-chunked/did.json", self.big_chunked)
        r.add_get("/slow/did.json", self.slow)
        r.add_get("/gzip-bomb/did.json", self.gzip_bomb)
        r.add_get("/malformed/did.json", self.malformed)
        r.add_get("/array/did.json", self.array)
        r.add_get("/moved/did.json", self.moved)
        r.add_get("/moved-target/did.json", self.moved_target)
        r.add_get("/offsite/did.json", self.offsite)
        r.add_get("/loop/did.json", self.loop)
        r.add_get("/cached/did.json", self.cached)
        r.add_get("/nostore/did.json", self.nostore)
        r.add_get("/rotating/did.json", self.rotating)
        r.add_get("/broken/did.json", self.broken)
        r.add_get("/gone/did.json", self.gone)
        r.add_get("/forbidden/did.json", self.forbidden)
        # The keys /rotating/did.json lists (key-1 first); a test adds one to stand for a rotation.
        self.rotating_keys = ["key-1"]

    def _hit(self, request: web.Request) -> None:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    async def root(self, request):
        self._hit(request)
        return web.json_response(document(did_for(request)), content_type="application/did+json")

    async def alice(self, request):
        self._hit(request)
        return web.json_response(document(did_for(request, "user", "alice")))

    async def wrong_id(self, request):
        return web.json_response(document("did:web:attacker.example"))

    async def big(self, request):
        doc = document(did_for(request, "big"))
        doc["padding"] = "x" * 100_000
        return web.json_response(doc)

    async def big_chunked(self, request):
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"padding": "')
        for _ in range(100):
            await response.write(b"x" * 1024)
        await response.write(b'"}')
        await response.write_eof()
        return response

    async def gzip_bomb(self, request):
        # 4 KiB on the wire, 4 MiB once inflated: the cap must apply to what is inflated
        body = gzip.compress(b'{"padding": "' + b"0" * (4 * 1024 * 1024) + b'"}')
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    async def slow(self, request):
        await asyncio.sleep(1.0)
        return web.json_response(document(did_for(request, "slow")))

    async def malformed(self, request):
        return web.Response(text='{"id": "did:web:x", ', content_type="application/json")

    async def array(self, request):
        return web.json_response([document(did_for(request, "array"))])

    async def moved(self, request):
        raise web.HTTPFound("/moved-target/did.json")

    async def moved_target(self, request):
        return web.json_response(document(did_for(request, "moved")))

    async def offsite(self, request):
        # same machine, other name: still another host, so the redirect must be refused
        raise web.HTTPFound(f"http://localhost:{request.url.port}/.well-known/did.json")

    async def loop(self, request):
        raise web.HTTPFound("/loop/did.json")

    async def broken(self, request):
        raise web.HTTPInternalServerError(text="database down")

    async def gone(self, request):
        raise web.HTTPGone()

    async def forbidden(self, request):
        raise web.HTTPForbidden()

    async def cached(self, request):
        self._hit(request)
        return web.json_response(document(did_for(request, "cached")), headers={"Cache-Control": "public, max-age=60"})

    async def nostore(self, request):
        self._hit(request)
        return web.json_response(document(did_for(request, "nostore")), headers={"Cache-Control": "no-store"})


    async def rotating(self, request):
        """A controller whose keys change (a rotation), cached for an hour by Cache-Control."""
        self._hit(request)
        doc = document(did_for(request, "rotating"))
        template = doc["verificationMethod"][0]
        doc["verificationMethod"] = [{**template, "id": f"#{k}"} for k in self.rotating_keys]
        doc["assertionMethod"] = [f"#{k}" for k in self.rotating_keys]
        return web.json_response(doc, headers={"Cache-Control": "public, max-age=3600"})


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def didweb(aiohttp_server):
    handlers = DIDWebApp()
    server = await aiohttp_server(handlers.app)
    handlers.port = server.port
    handlers.host = f"127.0.0.1:{server.port}"
    handlers.base_did = f"did:web:127.0.0.1%3A{server.port}"
    return handlers


@pytest.fixture
async def guarded(didweb):
    """A GuardedHTTP allowed to reach the test server (and nothing else private), short limits."""
    allow = {didweb.host}
    session = create_guarded_session(allowed_insecure_hosts=allow)
    http = GuardedHTTP(session, allowed_insecure_hosts=allow, timeout=0.25, max_bytes=64 * 1024)
    yield http
    await session.close()


@pytest.fixture
async def unguarded_allowance(didweb):
    """A GuardedHTTP with nothing allowed: every private address must be refused."""
    session = create_guarded_session()
    yield GuardedHTTP(session, timeout=1.0)
    await session.close()
