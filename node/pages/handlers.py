"""The pages' request handlers: the issuer list, the verifier page, an achievement's HTML form.

The verifier works without JavaScript: the form posts the pasted JSON (or the chosen file, as
multipart) back to ``/verify``, and ``GET /verify?url=`` fetches a published credential on the
server. Both are bounded like the API: the body by the node's ``max_body_bytes`` (aiohttp's
``client_max_size``, the same bound ``read_json`` applies), the fetch by the guarded client's
rules for did:web. Input that cannot be checked gets a page that says why and keeps what was
typed; it never reaches the problem+json middleware.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from did.errors import FetchError
from node.pages import view
from node.pages.access import FetchOffError, NodeAccess
from node.pages.render import render
from node.pages.texts import Texts
from node.errors import NodeError
from vc.errors import ProblemError
from vc.limits import DuplicateMemberError, check_shape, unique_members

MAX_URL = 2048
MAX_OPTION = 512  # characters of a challenge or domain typed into the form
NO_STORE = {"Cache-Control": "no-store"}  # a verified credential is personal data


@dataclass
class FormState:
    document: str = ""
    challenge: str = ""
    domain: str = ""
    url: str = ""


class InputProblem(Exception):
    """What the person gave cannot be checked; ``message`` says why, in words."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_document(t: Texts, raw: bytes | str, limit: int) -> Any:
    """The text of a credential as JSON, bounded like ``node.problems.read_json``."""
    if isinstance(raw, bytes):
        if len(raw) > limit:
            raise InputProblem(t("input.too_large", limit=_size(limit)), 413)
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputProblem(t("input.not_utf8")) from None
    if len(raw.encode("utf-8")) > limit:
        raise InputProblem(t("input.too_large", limit=_size(limit)), 413)
    if not raw.strip():
        raise InputProblem(t("input.empty"))
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, object_pairs_hook=unique_members)
    except DuplicateMemberError as e:
        raise InputProblem(t("input.duplicate_member", name=repr(e.name))) from None
    except RecursionError:
        raise InputProblem(t("input.too_deep")) from None
    except json.JSONDecodeError as e:
        raise InputProblem(t("input.not_json", detail=f"{e.msg} at line {e.lineno}, column {e.colno}")) from None
    except ValueError as e:
        raise InputProblem(t("input.not_json", detail=str(e))) from None
    return checked_document(t, value)


def checked_document(t: Texts, value: Any) -> Any:
    """``value`` if it can be a credential or presentation: an object within ``vc.limits``."""
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else "string" if isinstance(value, str) else "boolean" if isinstance(value, bool) else "null" if value is None else "number"
        raise InputProblem(t("input.not_object", kind=t(f"input.kind.{kind}")))
    try:
        check_shape(value)
    except ProblemError as e:
        raise InputProblem(t("input.shape", detail=e.detail)) from None
    return value


async def _verify(access: NodeAccess, t: Texts, document: Any, form: FormState) -> view.Outcome:
    if view.is_presentation(document):
        options = {k: v for k, v in (("challenge", form.challenge), ("domain", form.domain)) if v}
        result = await access.verify_presentation(document, options)
        return view.presentation_outcome(t, result, await access.own_dids())
    result = await access.verify_credential(document, {})
    return view.credential_outcome(t, result, await access.own_dids())


def _page(t: Texts, access: NodeAccess, form: FormState, *, outcome: view.Outcome | None = None, problem: str = "", status: int = 200) -> web.Response:
    return render(
        "verify.html",
        status=status,
        texts=t,
        headers=NO_STORE,
        page="verify",
        form=form,
        outcome=outcome,
        problem=problem,
        max_bytes=access.max_body,
        max_size=_size(access.max_body),
    )


async def verify_page(request: web.Request) -> web.Response:
    """``GET /verify``: the form; with ``?url=``, the credential published there, checked."""
    t, access = Texts(), NodeAccess.of(request)
    url = request.query.get("url", "")
    form = FormState(url=url[:MAX_URL])
    if not url:
        return _page(t, access, form)
    try:
        if len(url) > MAX_URL or view.safe_href(url) is None:
            raise InputProblem(t("url.bad", limit=MAX_URL))
        try:
            document = await access.fetch_json(url)
        except FetchOffError:
            raise InputProblem(t("url.offline"), 503) from None
        except FetchError as e:
            if e.reason in ("insecure", "forbidden-address", "redirect"):
                raise InputProblem(t("url.refused", url=url, detail=e.detail)) from None
            if e.reason == "too-large":
                raise InputProblem(t("input.too_large", limit=_size(access.max_body)), 413) from None
            raise InputProblem(t("url.failed", url=url, detail=e.detail), 502) from None
        document = checked_document(t, document)  # the fetch already bounded its size
    except InputProblem as e:
        return _page(t, access, form, problem=e.message, status=e.status)
    form.document = json.dumps(document, indent=2, ensure_ascii=False)
    return _page(t, access, form, outcome=await _verify(access, t, document, form))


async def verify_submit(request: web.Request) -> web.Response:
    """``POST /verify``: the pasted text or the chosen file (a form, urlencoded or multipart)."""
    t, access = Texts(), NodeAccess.of(request)
    form = FormState()
    limit = access.max_body
    try:
        if request.content_length is not None and request.content_length > limit:
            raise InputProblem(t("input.too_large", limit=_size(limit)), 413)
        try:
            data = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise InputProblem(t("input.too_large", limit=_size(limit)), 413) from None
        except (ValueError, HttpProcessingError) as e:  # a malformed multipart body (a part's headers too)
            raise InputProblem(t("input.form", detail=getattr(e, "message", None) or str(e))) from None
        text = data.get("document")
        form.document = text if isinstance(text, str) else ""
        form.challenge = _option(data.get("challenge"))
        form.domain = _option(data.get("domain"))
        upload = data.get("file")
        raw: bytes | str = form.document
        if isinstance(upload, web.FileField) and upload.filename:
            raw = upload.file.read(limit + 1)
            if len(raw) <= limit:
                try:
                    form.document = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    pass
        document = parse_document(t, raw, limit)
    except InputProblem as e:
        return _page(t, access, form, problem=e.message, status=e.status)
    return _page(t, access, form, outcome=await _verify(access, t, document, form))


def _option(value: Any) -> str:
    return value.strip()[:MAX_OPTION] if isinstance(value, str) else ""


async def home(request: web.Request) -> web.Response:
    """``GET /``: the node's issuers, their DIDs and the micro-credentials they award."""
    issuers = await NodeAccess.of(request).issuers()
    return render("index.html", page="home", issuers=issuers)


async def achievement_page(request: web.Request) -> web.Response:
    """An achievement's URL asked for by a browser: the micro-credential described for people."""
    t = Texts()
    issuer, slug = request.match_info["name"], request.match_info["slug"]
    try:
        achievement = await NodeAccess.of(request).achievement(issuer, slug)
    except NodeError as e:
        if e.http_status != 404:
            raise
        message = t("notfound.achievement", issuer=issuer, slug=slug) if e.code != "unknown-issuer" else t("notfound.issuer", issuer=issuer)
        return render("notfound.html", status=404, texts=t, page="", message=message, headers={"Vary": "Accept"})
    return render(
        "achievement.html", texts=t, page="", achievement=view.achievement_view(t, achievement), headers={"Vary": "Accept"}
    )
