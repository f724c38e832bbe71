"""Achievements and micro-credentials over HTTP (docs/microcredential-profile.md).

``POST /issuers/{name}/achievements`` defines an achievement (token with ``issue`` for that
issuer); ``GET`` lists them or reads one, publicly: an achievement's URL is its ``id`` inside
every credential that awards it. ``POST /issuers/{name}/microcredentials`` issues one
(``{achievementId, learner, ...}``) or a batch (a JSON list of them, or ``{items: [...], options}``); any incomplete or malformed
item is a 422 naming every problem by its Annex I element, and then nothing is issued.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node import auth, pages
from node.achievements import Achievements
from node.problems import bad_request, field, options_field, read_json
from node.routes import CORS_HEADERS, preflight
from node.routes import service as _service

ISSUE_OPTIONS = ("cryptosuite", "statusPurposes")


def _achievements(request: web.Request) -> Achievements:
    return Achievements(_service(request))


async def create_achievement(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    await auth.authorize(request, scope="issue", issuer=name)
    body = await read_json(request)
    stored = await _achievements(request).create(name, body)
    out = stored.to_json()
    return web.json_response(out, status=201, headers={"Location": out["id"]})


async def list_achievements(request: web.Request) -> web.Response:
    items = await _achievements(request).list(request.match_info["name"])
    return web.json_response({"achievements": [a.to_json() for a in items]}, headers=CORS_HEADERS)


async def get_achievement(request: web.Request) -> web.Response:
    # Content negotiation: a browser gets the achievement described for people (node.pages).
    if pages.wants_html(request):
        return await pages.achievement_page(request)
    stored = await _achievements(request).get(request.match_info["name"], request.match_info["slug"])
    return web.json_response(stored.to_json(), headers={**CORS_HEADERS, "Vary": "Accept"})


async def issue_microcredentials(request: web.Request) -> web.Response:
    """One request object, a list of them, or ``{items: [...], options?}``: 201 with the
    credentials (200 when every one was already issued under its idempotency key)."""
    name = request.match_info["name"]
    await auth.authorize(request, scope="issue", issuer=name)
    body = await read_json(request, allow_array=True)
    if isinstance(body, list):  # a bare list of requests is a batch with default options
        body = {"items": body}
    options = options_field(body, ISSUE_OPTIONS)
    batch = "items" in body
    if batch:
        items = field(body, "items", list)
        extra = sorted(set(body) - {"items", "options"})
        if extra:
            raise bad_request(f"a batch body has only items and options; unexpected {', '.join(extra)}", field=extra[0])
        if not items:
            raise bad_request("items is empty", field="items")
    else:
        items = [{k: v for k, v in body.items() if k != "options"}]
    outcome = await _achievements(request).issue(name, items, options=options)
    status = 200 if outcome.issued and all(i.replayed for i in outcome.issued) else 201
    if not batch:
        only = outcome.issued[0]
        if only.replayed:
            # The node keeps no credential bodies: a replay names what was issued before.
            return web.json_response({"credentialId": only.credential_id, "replayed": True}, status=200)
        return web.json_response({"verifiableCredential": only.credential, "replayed": False}, status=201)
    return web.json_response(
        {
            "verifiableCredentials": [i.credential for i in outcome.issued if not i.replayed],
            "issued": outcome.new,
            "replayed": [{"index": i.index, "credentialId": i.credential_id} for i in outcome.issued if i.replayed],
        },
        status=status,
    )


def setup(app: web.Application) -> None:
    app.router.add_post("/issuers/{name}/achievements", create_achievement)
    app.router.add_get("/issuers/{name}/achievements", list_achievements)
    app.router.add_get("/issuers/{name}/achievements/{slug}", get_achievement)
    app.router.add_route("OPTIONS", "/issuers/{name}/achievements", preflight)
    app.router.add_route("OPTIONS", "/issuers/{name}/achievements/{slug}", preflight)
    app.router.add_post("/issuers/{name}/microcredentials", issue_microcredentials)


def openapi_paths() -> dict[str, Any]:
    """These routes' OpenAPI description (merged into /openapi.json by node.routes.openapi)."""
    problem = {"$ref": "#/components/schemas/Problem"}

    def resp(description: str, schema: dict[str, Any] | None = None, problem_json: bool = False) -> dict[str, Any]:
        kind = "application/problem+json" if problem_json else "application/json"
        return {"description": description, "content": {kind: {"schema": problem if problem_json else (schema or {"type": "object"})}}}

    issuer = {"name": "name", "in": "path", "required": True, "description": "The issuer's name on this node", "schema": {"type": "string"}}
    slug = {"name": "slug", "in": "path", "required": True, "description": "The achievement's slug", "schema": {"type": "string"}}
    refused = resp(
        "An incomplete or malformed achievement or request: `problems` lists every problem by its Annex I element, "
        "e.g. \"(g) workload: ECTS must be a positive number\"; nothing was stored, signed or allocated",
        problem_json=True,
    )
    common = {
        "400": resp("Malformed JSON or a field of the wrong type", problem_json=True),
        "401": resp("No or unknown bearer token", problem_json=True),
        "403": resp("The token may not issue for this issuer", problem_json=True),
        "404": resp("No such issuer (or achievement)", problem_json=True),
        "413": resp("The request body is too large", problem_json=True),
    }
    return {
        "/issuers/{name}/achievements": {
            "post": {
                "summary": "Define an achievement (a micro-credential's course or module, with its Annex I elements)",
                "operationId": "createAchievement",
                "tags": ["Micro-credentials"],
                "security": [{"bearer": ["issue"]}],
                "parameters": [issuer],
                "description": "Fields: title, description, learningOutcomes, ects, eqfLevel, assessment, participation, "
                "qualityAssurance, awardingBody {name, countryCode|country|region}, optional slug, criteria, language, "
                "humanCode, fieldOfStudy, tags, image, prerequisites, supervision, integration. See docs/microcredential-profile.md.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"201": resp("The stored achievement; its id is its URL"), "409": resp("The slug is taken", problem_json=True), "422": refused, **common},
            },
            "get": {
                "summary": "List the issuer's achievements",
                "operationId": "listAchievements",
                "tags": ["Micro-credentials"],
                "parameters": [issuer],
                "responses": {"200": resp("{achievements: [...]}"), "404": common["404"]},
            },
        },
        "/issuers/{name}/achievements/{slug}": {
            "get": {
                "summary": "An achievement definition (the URL credentials name as the achievement id)",
                "operationId": "getAchievement",
                "tags": ["Micro-credentials"],
                "parameters": [issuer, slug],
                "responses": {"200": resp("The achievement"), "404": common["404"]},
            }
        },
        "/issuers/{name}/microcredentials": {
            "post": {
                "summary": "Issue micro-credentials: one {achievementId, learner, validFrom?, grade?, evidence?, idempotencyKey?}, a list of them, or {items: [...], options}",
                "operationId": "issueMicroCredentials",
                "tags": ["Micro-credentials"],
                "security": [{"bearer": ["issue"]}],
                "parameters": [issuer],
                "description": "Every item is checked before anything is signed or a status index allocated. An idempotencyKey "
                "makes the request repeatable: the same key issues nothing and names the credential already issued (200), "
                "the same key with other content is a 409.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "201": resp("{verifiableCredential, replayed: false}, or for a batch {verifiableCredentials (the new ones), issued, replayed: [{index, credentialId}]}"),
                    "200": resp("Every item had already been issued under its idempotency key: {credentialId, replayed: true} (the node keeps no credential bodies)"),
                    "409": resp("An idempotency key was used before for a different request", problem_json=True),
                    "422": refused,
                    **common,
                },
            }
        },
    }
