"""API keys: the list, a new key (shown once, with a curl line to try it), revoking."""

from uuid import UUID

from starlette.responses import Response

from domain.errors import DomainError, NotFound
from gateway.dashboard.web import View, owner_page
from usecases.keys import NewKey


def _key_id(view: View) -> UUID:
    try:
        return UUID(view.request.path_params["key_id"])
    except ValueError:
        raise NotFound("No such API key") from None


async def _page(view: View, status: int = 200, new: NewKey | None = None, **context: object) -> Response:
    keys = await view.call(view.usecases.keys.list, view.account_id)
    api = view.public_url + "/api/v1"
    welcome = view.request.query_params.get("welcome") == "1"
    return view.page("keys.html", status=status, keys=keys, new=new, api=api, welcome=welcome, **context)


async def keys_page(view: View) -> Response:
    if view.reading:
        return await _page(view)
    label = view.form.get("label")
    try:
        new = await view.call(view.usecases.keys.create, view.account_id, label)
    except DomainError as exc:
        return await _page(view, view.status_of(exc), label=label, problems=[view.explain(exc)])
    return await _page(view, new=new)


async def revoke_key(view: View) -> Response:
    await view.call(view.usecases.keys.revoke, view.account_id, _key_id(view))
    return view.redirect("/keys", "key-revoked")


KEYS = owner_page(keys_page)
REVOKE = owner_page(revoke_key)
