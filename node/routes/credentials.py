"""``GET /credentials/{id}``: a credential this node issued, as it was issued (VC-API getCredential).

The node keeps each credential it signs (``keep_credentials``; README, "Personal data in the
store"), so an issuer whose response was lost can fetch it again. Only the issuing issuer's
token sees it: to a token bound to another issuer, the node's other credentials do not exist
(404, as for status changes), and the answer is never public. An unknown id is a 404; a known
one whose body was erased (``retention_days``, ``vcnode credentials purge``) or never kept is a
410 (VCALM getCredential: "Gone! There is no data here"); the status record stays either way.
"""

from __future__ import annotations

from aiohttp import web

from node import auth
from node.routes import node_of
from node.routes.endpoint import GRANT, Endpoints, PathParam, Reply, Scope
from node.routes.models import IssuedCredential

api = Endpoints()

# The VC-API's POST-only paths beside it (/credentials/issue, /verify, /status) are not credential
# ids: the route does not match them, so a GET there stays a 405 whose Allow names POST alone,
# not a look-up of a credential called "verify".
_NOT_AN_ID = r"(?!(?:issue|verify|status)$)[^/]+"


@api.get(
    "/credentials/{id}",
    "getCredential",
    summary="A credential this node issued, exactly as it was issued",
    tags=["Credentials"],
    description=(
        "VC-API getCredential. The credential's id, percent-encoded when it holds a `/` (a `urn:uuid:` id "
        "need not be). The node keeps what it issues while `keep_credentials` is on, for `retention_days`; "
        "a token bound to another issuer cannot tell this issuer's credentials from ones that do not exist. "
        "The answer holds personal data and is never cached."
    ),
    params=[PathParam("id", "The credential's id (percent-encoded)")],
    pattern="/credentials/{id:" + _NOT_AN_ID + "}",
    scope=Scope("issue"),
    replies={200: Reply(IssuedCredential, "The signed credential", headers={"Cache-Control": "no-store"})},
    problems={
        404: "No credential with that id was issued by this node (or by the token's issuer)",
        410: "The credential was issued, but its body is no longer kept (erased after retention_days or by "
        "`vcnode credentials purge`, or issued with keep_credentials off): `detail` says which, `bodyKept` is false; "
        "the status record remains",
    },
)
async def get_credential(request: web.Request) -> web.Response:
    grant = request[GRANT]
    # A token bound to one issuer sees only that issuer's credentials.
    issuer = None if (auth.ADMIN in grant.scopes or grant.issuer is None) else grant.issuer
    credential = await node_of(request).credentials.body(request.match_info["id"], issuer_name=issuer)
    return web.json_response({"verifiableCredential": credential}, headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    api.register(app)
