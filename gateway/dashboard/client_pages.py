"""Clients: a searchable, paged list (active or deactivated), the plan's usage, a form to
add or change one, deactivating and reactivating, and the client's history."""

from typing import Any
from uuid import UUID

from starlette.responses import Response

from domain.errors import DomainError, NotFound, ValidationError
from gateway.dashboard.checks import client_refusals
from gateway.dashboard.history import timeline
from gateway.dashboard.problems import Problem
from gateway.dashboard.web import View, owner_page
from usecases.inputs import ClientFields, ListQuery

PAGE_SIZE = 20
FIELDS = ("name", "email", "address", "taxId", "phone", "notes")


def page_number(view: View) -> int:
    raw = view.request.query_params.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 and int(raw) > 0 else 1


def _client_id(view: View) -> UUID:
    try:
        return UUID(view.request.path_params["client_id"])
    except ValueError:
        raise NotFound("Client not found") from None


async def clients_page(view: View) -> Response:
    query = view.request.query_params
    search = query.get("search") or None
    state = "deactivated" if query.get("state") == "deactivated" else "active"
    listing = view.usecases.clients.deactivated if state == "deactivated" else view.usecases.clients.list
    context: dict[str, Any] = {"search": search or "", "state": state}
    try:
        found = await view.call(listing, view.account_id, ListQuery(page_number(view), PAGE_SIZE, search))
    except DomainError as exc:
        found = None
        context["problems"] = [view.explain(exc)]
    usage = await view.call(view.usecases.accounts.usage, view.account_id)
    return view.page("clients.html", status=200 if found else 400, clients=found, usage=usage, **context)


async def _form(view: View, client: Any = None, status: int = 200, **context: Any) -> Response:
    history = []
    if client is not None:
        history = await view.call(view.usecases.auditing.client_history, view.account_id, UUID(client.id))
    values = context.pop("values", None) or {
        wire: (getattr(client, "tax_id" if wire == "taxId" else wire) or "") if client else "" for wire in FIELDS
    }
    moments = timeline(view, history, "client")
    return view.page(
        "client_form.html", status=status, client=client, values=values, history_moments=moments, **context
    )


def _all_problems(view: View, values: dict[str, str | None], exc: DomainError, *, creating: bool) -> list[Problem]:
    """A refused client's every problem at once (its name and its email), or the one refusal
    that is not about a field (the plan's limit)."""
    if not isinstance(exc, ValidationError):
        return [view.explain(exc)]
    return [view.explain(error) for error in client_refusals(values, exc, creating=creating)]


async def new_client(view: View) -> Response:
    if view.reading:
        return await _form(view)
    values = view.form.values(*FIELDS)
    try:
        created = await view.call(view.usecases.clients.create, view.account_id, ClientFields(values))
    except DomainError as exc:
        shown = {k: v or "" for k, v in values.items()}
        problems = _all_problems(view, values, exc, creating=True)
        return await _form(view, status=view.status_of(exc), values=shown, problems=problems)
    return view.redirect(f"/clients/{created.id}", "client-created")


async def client_page(view: View) -> Response:
    client_id = _client_id(view)
    client = await view.call(view.usecases.clients.get, view.account_id, client_id)
    if view.reading:
        return await _form(view, client)
    values = view.form.values(*FIELDS)
    try:
        await view.call(view.usecases.clients.update, view.account_id, client_id, ClientFields(values))
    except DomainError as exc:
        shown = {k: v or "" for k, v in values.items()}
        problems = _all_problems(view, values, exc, creating=False)
        return await _form(view, client, status=view.status_of(exc), values=shown, problems=problems)
    return view.redirect(f"/clients/{client_id}", "client-saved")


async def _activate(view: View, active: bool) -> Response:
    client_id = _client_id(view)
    client = await view.call(view.usecases.clients.get, view.account_id, client_id)
    try:
        await view.call(view.usecases.clients.update, view.account_id, client_id, ClientFields(is_active=active))
    except DomainError as exc:
        return await _form(view, client, status=view.status_of(exc), problems=[view.explain(exc)])
    return view.redirect(f"/clients/{client_id}", "client-reactivated" if active else "client-deactivated")


async def deactivate(view: View) -> Response:
    return await _activate(view, False)


async def reactivate(view: View) -> Response:
    return await _activate(view, True)


CLIENTS = owner_page(clients_page)
NEW = owner_page(new_client)
CLIENT = owner_page(client_page)
DEACTIVATE = owner_page(deactivate)
REACTIVATE = owner_page(reactivate)
