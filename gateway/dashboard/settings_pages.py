"""The account's settings: seller details and locale (what invoices show), the plan and
its usage, the owners, the ledger's digest and its export."""

from typing import Any

from starlette.responses import Response

from domain.account import LOCALES
from domain.errors import DomainError
from gateway.dashboard.web import View, owner_page
from usecases.accounts import AccountFields

FIELDS = ("name", "locale", "address", "email", "taxId", "phone")


def _values(account: Any) -> dict[str, str]:
    return {wire: getattr(account, "tax_id" if wire == "taxId" else wire) or "" for wire in FIELDS}


async def page(view: View, status: int = 200, **context: Any) -> Response:
    """The settings page (with ``problems`` of one of its forms)."""
    account = await view.call(view.usecases.accounts.get, view.account_id)
    usage = await view.call(view.usecases.accounts.usage, view.account_id)
    digest = await view.call(view.usecases.auditing.digest, view.account_id)
    owners = await view.call(view.usecases.owners.listing, view.account_id)
    values = context.pop("values", None) or _values(account)
    return view.page(
        "settings.html",
        status=status,
        values=values,
        usage=usage,
        digest=digest,
        owners=owners,
        locales=LOCALES,
        **context,
    )


async def settings_page(view: View) -> Response:
    if view.reading:
        return await page(view)
    values = view.form.values(*FIELDS)
    if values["name"] is None:
        values["name"] = view.form.get("name")  # blank: the domain says it must not be
    if values["locale"] is None:
        values["locale"] = view.form.get("locale")
    try:
        await view.call(view.usecases.accounts.update, view.account_id, AccountFields(values))
    except DomainError as exc:
        shown = {k: v or "" for k, v in values.items()}
        return await page(view, view.status_of(exc), values=shown, problems=[view.explain(exc)])
    return view.redirect("/settings", "settings-saved")


async def export(view: View) -> Response:
    """The account's ledger export (``cleverinvo ledger export``), as a download."""
    lines = await view.call(view.usecases.accounts.export, view.account_id)
    body = "".join(line + "\n" for line in lines).encode("utf-8")
    name = f"cleverinvo-ledger-{view.account_id}.jsonl"
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


SETTINGS = owner_page(settings_page)
EXPORT = owner_page(export)
