"""Achievements and micro-credentials over HTTP (docs/microcredential-profile.md).

``POST /issuers/{name}/achievements`` defines an achievement (token with ``issue`` for that
issuer); ``GET`` lists them (the node's definitions) or reads one, publicly: an achievement's URL
is its ``id`` inside every credential that awards it, and answers the Open Badges 3.0
``Achievement`` those credentials carry (JSON-LD; ``?format=definition`` for the definition). ``POST /issuers/{name}/microcredentials`` issues one
(``{achievementId, learner, ...}``) or a batch (a JSON list of them, or ``{items: [...], options}``); any incomplete or malformed
item is a 422 naming every problem by its Annex I element, and then nothing is issued.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, Union

from aiohttp import web
from pydantic import ConfigDict, Discriminator, Field, RootModel, Tag
from typing_extensions import NotRequired, TypedDict

from node import pages
from node.achievements import REQUEST_FIELDS, Achievements
from node.routes import node_of, open_to_browsers
from node.problems import bad_request
from node.routes.endpoint import Body, Endpoints, PathParam, QueryParam, Reply, Scope
from node.routes.models import NO_ISSUER, DateTime, IssueOptions, JsonLd, Number
from vc.edu import achievement_document

api = Endpoints()

ISSUER = PathParam("name", "The issuer's name on this node")
SLUG = PathParam("slug", "The achievement's slug")
_REFUSED = (
    "An incomplete or malformed achievement or request: `problems` lists every problem by its Annex I element, "
    "e.g. \"(g) workload: ECTS must be a positive number\"; nothing was stored, signed or allocated"
)


def _achievements(request: web.Request) -> Achievements:
    return node_of(request).achievements


# --- achievements --------------------------------------------------------------------------

# The definition is checked by the micro-credential profile (vc.edu.parse_achievement,
# also behind `vcnode achievement create`), which names every problem by its Annex I element.
AchievementDefinition = Annotated[
    dict[str, Any],
    Field(
        description="title, description, learningOutcomes, ects, eqfLevel, assessment, participation, qualityAssurance, "
        "awardingBody {name, countryCode|country|region}, optional slug, criteria, language, humanCode, fieldOfStudy, "
        "tags, image, prerequisites, supervision, integration. Checked as a whole: see docs/microcredential-profile.md."
    ),
]


class AwardingBody(TypedDict):
    """(c), (d): who awards it."""

    name: str
    countryCode: NotRequired[str]
    country: NotRequired[str]
    region: NotRequired[str]
    url: NotRequired[str]
    email: NotRequired[str]


class Achievement(TypedDict):
    """A stored achievement definition: the credentials that award it name `id` as their achievement."""

    id: Annotated[str, Field(description="Its URL on this node")]
    slug: str
    issuer: Annotated[str, Field(description="The issuer's name on this node")]
    created: DateTime
    title: str
    description: str
    learningOutcomes: list[dict[str, Any]]
    ects: Number
    eqfLevel: int
    assessment: dict[str, Any]
    participation: str
    qualityAssurance: dict[str, Any]
    awardingBody: AwardingBody


class AchievementList(TypedDict):
    achievements: list[Achievement]


# What an achievement's URL answers to programs: the Open Badges 3.0 Achievement (JSON-LD), the
# very object every credential awarding it carries (vc.edu.achievement_document).
ObAchievement = TypedDict(
    "ObAchievement",
    {
        "@context": list[str],
        "id": Annotated[str, Field(description="Its URL on this node")],
        "type": list[str],
        "achievementType": str,
        "name": str,
        "description": str,
        "criteria": dict[str, Any],
        "creditsAvailable": Annotated[Number, Field(description="(g) workload in ECTS credits")],
        "alignment": Annotated[list[dict[str, Any]], Field(description="(f) learning outcomes, (h) EQF level, (j) form of participation, (k) quality assurance, part II")],
        "resultDescription": Annotated[list[dict[str, Any]], Field(description="(i) the assessment")],
        "creator": NotRequired[Annotated[dict[str, Any], Field(description="The awarding body's Profile: (c), (d)")]],
        "inLanguage": NotRequired[str],
        "humanCode": NotRequired[str],
        "fieldOfStudy": NotRequired[str],
        "tag": NotRequired[list[str]],
        "image": NotRequired[dict[str, Any]],
    },
)
ObAchievement.__doc__ = "An Open Badges 3.0 Achievement (JSON-LD, OB 3.0 contexts), as the credentials that award it carry it."
LD_JSON = "application/ld+json"


@api.post(
    "/issuers/{name}/achievements",
    "createAchievement",
    summary="Define an achievement (a micro-credential's course or module, with its Annex I elements)",
    tags=["Micro-credentials"],
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    body=AchievementDefinition,
    replies={201: Reply(Achievement, "The stored achievement; its id is its URL", headers={"Location": "The achievement's URL"})},
    problems={404: NO_ISSUER, 409: "The slug is taken", 422: _REFUSED},
)
async def create_achievement(request: web.Request, body: dict[str, Any]) -> web.Response:
    name = request.match_info["name"]
    stored = await _achievements(request).create(name, body)
    out = stored.to_json()
    return web.json_response(out, status=201, headers={"Location": out["id"]})


@api.get(
    "/issuers/{name}/achievements",
    "listAchievements",
    summary="List the issuer's achievements",
    tags=["Micro-credentials"],
    params=[ISSUER],
    replies={200: Reply(AchievementList, "The issuer's achievements, oldest first")},
    problems={404: NO_ISSUER},
)
async def list_achievements(request: web.Request) -> web.Response:
    items = await _achievements(request).list(request.match_info["name"])
    return web.json_response({"achievements": [a.to_json() for a in items]})


@api.get(
    "/issuers/{name}/achievements/{slug}",
    "getAchievement",
    summary="An achievement: the Open Badges 3.0 Achievement credentials name as theirs (JSON-LD), or its page",
    tags=["Micro-credentials"],
    description="Content negotiation: a client whose Accept names text/html above JSON (a browser) gets the "
    "achievement described for people (node.pages); any other gets the Open Badges 3.0 `Achievement` as JSON-LD, "
    "the very object inside every credential that awards it, with the awarding body as its `creator` "
    "(`application/ld+json` when the client names it, else `application/json`). `?format=definition` gives the "
    "node's own definition instead (what `POST /issuers/{name}/achievements` took and the listing shows).",
    params=[ISSUER, SLUG, QueryParam("format", "`definition`: the node's own definition format", {"type": "string", "enum": ["definition"]})],
    replies={
        200: [
            Reply(
                Union[ObAchievement, Achievement],
                "The Open Badges 3.0 Achievement; with ?format=definition, the node's definition",
                media_type=(LD_JSON, "application/json"),
                headers={"Vary": "Accept"},
            ),
            Reply(str, "The achievement described for people", media_type="text/html"),
        ],
        404: Reply(str, "A page saying what was not found", media_type="text/html"),
    },
    problems={400: "An unknown ?format", 404: "No issuer of that name, or it has no achievement with that slug"},
)
async def get_achievement(request: web.Request) -> web.Response:
    # Content negotiation: a browser gets the achievement described for people (node.pages).
    if pages.wants_html(request):
        return await pages.achievement_page(request)
    wanted = request.query.get("format")
    if wanted not in (None, "definition"):
        raise bad_request(f"format {wanted!r} is not known; leave it out for the Open Badges 3.0 Achievement, or ask for 'definition'")
    name = request.match_info["name"]
    stored = await _achievements(request).get(name, request.match_info["slug"])
    headers = {"Vary": "Accept"}
    if wanted == "definition":
        return web.json_response(stored.to_json(), headers=headers)
    awarding_body = dataclasses.replace(stored.awarding_body, id=(await node_of(request).issuers.get(name)).did)
    media = LD_JSON if pages.accept_ranges(request.headers.get("Accept", "")).get(LD_JSON, 0) > 0 else "application/json"
    return web.json_response(achievement_document(stored.definition, awarding_body), headers=headers, content_type=media)


# --- issuing -------------------------------------------------------------------------------

# Each request is checked by the micro-credential profile (node.achievements), which names every
# problem of every item by its Annex I element (422), so items are free-form objects here.
_ITEM = (
    f"One micro-credential to issue: {{{', '.join(REQUEST_FIELDS)}}} (achievementId is the achievement's slug; "
    "learner {name, id?, email?, ...}). Checked as a whole: see docs/microcredential-profile.md."
)


class SingleMicroCredential(Body):
    """One request; its members other than `options` are the item."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"description": _ITEM})

    options: IssueOptions | None = None
    items: None = Field(None, description="Not in this form: a body with `items` is a batch")

    def item(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class MicroCredentialBatch(Body):
    """A batch: every item is checked before anything is signed; one refused item issues nothing."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[Any], Field(min_length=1, description=_ITEM)]
    options: IssueOptions | None = None


def _issue_form(body: Any) -> str:
    return "list" if isinstance(body, list) else ("batch" if isinstance(body, dict) and body.get("items") is not None else "single")


class IssueMicroCredentialsRequest(
    RootModel[
        Annotated[
            Union[
                Annotated[SingleMicroCredential, Tag("single")],
                Annotated[MicroCredentialBatch, Tag("batch")],
                Annotated[Annotated[list[Any], Field(min_length=1, description="A batch with default options")], Tag("list")],
            ],
            Discriminator(_issue_form),
        ]
    ]
):
    """One request object, a batch `{items, options?}`, or a bare array of requests."""


class IssuedMicroCredential(TypedDict):
    verifiableCredential: JsonLd
    replayed: Literal[False]


class ReplayedMicroCredential(TypedDict):
    """The idempotency key had issued it before: nothing was signed now. The credential as it was
    issued, while the node keeps it (`keep_credentials`, `retention_days`); its id either way."""

    credentialId: str
    verifiableCredential: NotRequired[JsonLd]
    replayed: Literal[True]


class Replay(TypedDict):
    index: int
    credentialId: str
    verifiableCredential: NotRequired[Annotated[dict[str, Any], Field(description="The credential as issued, while the node keeps it")]]


class IssuedBatch(TypedDict):
    verifiableCredentials: Annotated[list[dict[str, Any]], Field(description="The credentials signed now")]
    issued: Annotated[int, Field(description="How many were signed now")]
    replayed: Annotated[list[Replay], Field(description="The items an idempotency key had issued before")]


@api.post(
    "/issuers/{name}/microcredentials",
    "issueMicroCredentials",
    summary="Issue micro-credentials: one {achievementId, learner, validFrom?, grade?, evidence?, idempotencyKey?}, a list of them, or {items: [...], options}",
    tags=["Micro-credentials"],
    description="Every item is checked before anything is signed or a status index allocated. A batch is issued "
    "whole or not at all, even across a crash. An idempotencyKey makes the request repeatable: the same key issues "
    "nothing and hands back the credential already issued (200; its id only when the node no longer keeps it), "
    "the same key with other content is a 409. An achievementId the issuer has not defined is one of the "
    "item's problems (422), like any other.",
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    body=IssueMicroCredentialsRequest,
    replies={
        201: Reply(Union[IssuedMicroCredential, IssuedBatch], "The new credential, or for a batch the new ones and the replayed items"),
        200: Reply(
            Union[ReplayedMicroCredential, IssuedBatch],
            "Every item had already been issued under its idempotency key: the credential's id (a batch: the replayed items)",
        ),
    },
    problems={
        404: NO_ISSUER,
        409: "An idempotency key was used before for a different request",
        422: _REFUSED + " (an achievementId the issuer has not defined is one of them)",
    },
)
async def issue_microcredentials(request: web.Request, body: IssueMicroCredentialsRequest) -> web.Response:
    """One request object, a list of them, or ``{items: [...], options?}``: 201 with the
    credentials (200 when every one was already issued under its idempotency key)."""
    name = request.match_info["name"]
    form = body.root
    batch = not isinstance(form, SingleMicroCredential)
    if isinstance(form, list):  # a bare list of requests is a batch with default options
        items, options = form, {}
    else:
        items = form.items if isinstance(form, MicroCredentialBatch) else [form.item()]
        options = form.options.for_service() if form.options is not None else {}
    outcome = await _achievements(request).issue(name, items, options=options)
    status = 200 if outcome.issued and all(i.replayed for i in outcome.issued) else 201
    if not batch:
        only = outcome.issued[0]
        if only.replayed:
            # What was issued before, as kept; its id alone when the body is no longer kept.
            replay: dict[str, Any] = {"credentialId": only.credential_id, "replayed": True}
            if only.credential is not None:
                replay["verifiableCredential"] = only.credential
            return web.json_response(replay, status=200)
        return web.json_response({"verifiableCredential": only.credential, "replayed": False}, status=201)
    return web.json_response(
        {
            "verifiableCredentials": [i.credential for i in outcome.issued if not i.replayed],
            "issued": outcome.new,
            "replayed": [_replay(i.index, i.credential_id, i.credential) for i in outcome.issued if i.replayed],
        },
        status=status,
    )


def _replay(index: int, credential_id: str, credential: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"index": index, "credentialId": credential_id}
    if credential is not None:
        out["verifiableCredential"] = credential
    return out


def setup(app: web.Application) -> None:
    api.register(app)
    open_to_browsers(app, "/issuers/{name}/achievements", "/issuers/{name}/achievements/{slug}")
