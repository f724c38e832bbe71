"""The pages' request handlers: the issuer list, the verifier page, an achievement's HTML form.

The verifier works without JavaScript: the form posts the pasted JSON (or the chosen file, as
multipart) back to ``/verify``, and ``GET /verify?url=`` fetches a published credential on the
server, as does a link pasted alone into the box. Both are bounded like the API: the body by the node's ``max_body_bytes`` (aiohttp's
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
from vc.limits import DuplicateMemberError, check_shape, loads_strict

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
    """What the person gave cannot be checked; ``message`` says why, in words. ``title`` is the
    heading's text key: a document that is itself suspect is a warning, not a fault of the page."""

    def __init__(self, message: str, status: int = 400, *, title: str = "input.problem") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.title = title


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"


class _Pairs(list):  # type: ignore[type-arg]
    """An object's members in order, duplicates kept: only to find where a duplicate is."""


def _duplicate_path(text: str) -> list[str] | None:
    """Where the first object naming a member twice sits, as member names and list indexes from
    the top (``[]`` for the top level); None if the text cannot be read that way."""

    def walk(value: Any, path: list[str]) -> list[str] | None:
        if isinstance(value, _Pairs):
            names = [k for k, _ in value]
            if len(set(names)) != len(names):
                return path
            items: Any = ((k, v) for k, v in value)
        elif isinstance(value, list):
            items = ((f"[{i}]", v) for i, v in enumerate(value))
        else:
            return None
        for key, child in items:
            found = walk(child, path + [key])
            if found is not None:
                return found
        return None

    try:
        return walk(json.loads(text, object_pairs_hook=_Pairs), [])
    except (ValueError, RecursionError):
        return None


def _duplicate_problem(t: Texts, name: str, text: str | None) -> InputProblem:
    """The same sentence for a pasted, uploaded or fetched document that names a member twice:
    I-JSON (RFC 7493 §2.3) forbids it because programs read such a document differently, so the
    person is told not to rely on it, and where the duplicate is when the text is at hand."""
    path = _duplicate_path(text) if text is not None else None
    if path is None:
        where = ""
    elif not path:
        where = t("input.duplicate_member.top")
    else:
        where = t("input.duplicate_member.in", path=" › ".join(path).replace(" › [", "["))
    return InputProblem(t("input.duplicate_member", name=repr(name), where=where), title="input.problem.suspect")


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
        value = loads_strict(raw)
    except DuplicateMemberError as e:
        raise _duplicate_problem(t, e.name, raw if isinstance(raw, str) else None) from None
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


def _page(
    t: Texts, access: NodeAccess, form: FormState, *, outcome: view.Outcome | None = None, problem: str = "", problem_title: str = "", status: int = 200
) -> web.Response:
    return render(
        "verify.html",
        status=status,
        texts=t,
        headers=NO_STORE,
        page="verify",
        form=form,
        outcome=outcome,
        problem=problem,
        problem_title=problem_title or t("input.problem"),
        max_bytes=access.max_body,
        max_size=_size(access.max_body),
    )


async def fetch_document(t: Texts, access: NodeAccess, url: str) -> Any:
    """The credential published at ``url``, through the node's guarded client (the did:web
    rules). A fetch that succeeded but brought a document that cannot be checked is the same
    input problem, in the same words, as that document pasted: the fault is the content's."""
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
        if e.reason == "malformed":
            raise _content_problem(t, e.__cause__) from None
        raise InputProblem(t("url.failed", url=url, detail=e.detail), 502) from None
    return checked_document(t, document)  # the fetch already bounded its size


def _content_problem(t: Texts, cause: BaseException | None) -> InputProblem:
    """What ``parse_document`` would say of a fetched body the guarded client could not read
    (``FetchError.reason == "malformed"`` keeps the parser's error as its cause)."""
    if isinstance(cause, DuplicateMemberError):
        return _duplicate_problem(t, cause.name, None)  # the client keeps no body to locate it in
    if isinstance(cause, UnicodeDecodeError):
        return InputProblem(t("input.not_utf8"))
    if isinstance(cause, RecursionError):
        return InputProblem(t("input.too_deep"))
    if isinstance(cause, json.JSONDecodeError):
        return InputProblem(t("input.not_json", detail=f"{cause.msg} at line {cause.lineno}, column {cause.colno}"))
    return InputProblem(t("input.not_json", detail=str(cause) if cause else "unreadable"))


def _pasted_link(text: str) -> str | None:
    """The box holds only an http(s) address: people are handed links and QR codes and paste
    them where the credential goes, so the link is checked as ``?url=`` would check it."""
    candidate = text.strip()
    if candidate[:8].lower().startswith(("https://", "http://")) and not any(c.isspace() for c in candidate):
        return candidate
    return None


async def verify_page(request: web.Request) -> web.Response:
    """``GET /verify``: the form; with ``?url=``, the credential published there, checked."""
    t, access = Texts(), NodeAccess.of(request)
    url = request.query.get("url", "")
    form = FormState(url=url[:MAX_URL])
    if not url:
        return _page(t, access, form)
    try:
        document = await fetch_document(t, access, url)
    except InputProblem as e:
        return _problem(t, access, form, e)
    form.document = json.dumps(document, indent=2, ensure_ascii=False)
    return _page(t, access, form, outcome=await _verify(access, t, document, form))


def _problem(t: Texts, access: NodeAccess, form: FormState, e: InputProblem) -> web.Response:
    return _page(t, access, form, problem=e.message, problem_title=t(e.title), status=e.status)


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
        link = _pasted_link(form.document) if isinstance(raw, str) else None
        if link is not None:
            form.url = link[:MAX_URL]
            document = await fetch_document(t, access, link)
        else:
            document = parse_document(t, raw, limit)
    except InputProblem as e:
        return _problem(t, access, form, e)
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
