"""A record's history (``usecases.auditing``) as a timeline a person reads: when, who,
what happened, and what changed."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.dashboard.i18n import STATUS_NAMES
from gateway.dashboard.problems import field_label
from gateway.dashboard.web import View
from translations import N_, NP_

WHAT = {
    "sent": N_("Sent"),
    "viewed": N_("Opened by the client"),
    "paymentRecorded": N_("Payment recorded"),
    "paymentReversed": N_("Payment reversed"),
    "overdue": N_("Became overdue"),
    "voided": N_("Voided"),
    "emailDelivered": N_("Email delivered"),
    "emailFailed": N_("Email not delivered"),
}
# What is said of the record itself takes its gender in Spanish (una factura creada, un
# cliente creado): these are told in the record's own context.
SAID_OF = {
    ("invoice", "created"): NP_("invoice", "Created"),
    ("invoice", "updated"): NP_("invoice", "Changed"),
    ("invoice", "deleted"): NP_("invoice", "Deleted"),
    ("client", "created"): NP_("client", "Created"),
    ("client", "updated"): NP_("client", "Changed"),
    ("client", "deactivated"): NP_("client", "Deactivated"),
    ("client", "reactivated"): NP_("client", "Reactivated"),
}
SYSTEM_NAMES = {
    "overdue sweep": N_("the overdue check"),
    "email delivery": N_("email delivery"),
    "share link": N_("the share link"),
    "first-run link": N_("the first-run link"),
}
# What a change of these fields says by itself; the rest are named.
DERIVED = {
    "status",
    "total",
    "amountPaid",
    "balanceDue",
    "subtotal",
    "taxTotal",
    "discountTotal",
    "sentAt",
    "paidAt",
    "viewedAt",
    "overdueAt",
    "voidedAt",
    "emailStatus",
    "emailError",
    "sentViaEmail",
    "updatedAt",
}


@dataclass(frozen=True)
class Moment:
    version: int
    when: str
    when_iso: str
    who: str
    what: str
    details: list[str]
    status: tuple[str, str] | None  # (from, to), translated


def who(view: View, actor: dict[str, Any]) -> str:
    _ = view.gettext
    kind, name = actor.get("type"), actor.get("name")
    if kind == "owner":
        return str(actor.get("name") or _("An owner"))
    if kind == "apiKey":
        return _("API key “%(name)s”") % {"name": name} if name else _("An API key")
    if kind == "cli":
        return _("The command line (%(command)s)") % {"command": name or "?"}
    if kind == "system" and name in SYSTEM_NAMES:
        return _("CleverInvo, %(what)s") % {"what": _(SYSTEM_NAMES[name])}
    return _("CleverInvo")


def _details(view: View, entry: dict[str, Any], currency: str | None) -> list[str]:
    _ = view.gettext
    changes, kind = entry.get("changes") or {}, entry.get("type")
    found: list[str] = []
    payment = changes.get("payment")
    if isinstance(payment, dict) and currency and isinstance(payment.get("amount"), Decimal):
        found.append(view.fmt.money(payment["amount"], currency))
    if kind == "sent":
        recipients = [*changes.get("to", []), *changes.get("cc", [])]
        if changes.get("email"):
            found.append(_("by email to %(who)s") % {"who": ", ".join(recipients)} if recipients else _("by email"))
        else:
            found.append(_("without email"))
    if kind == "emailDelivered" and changes.get("recipients"):
        found.append(", ".join(changes["recipients"]))
    if kind == "emailFailed" and changes.get("error"):
        found.append(str(changes["error"]))
    if kind == "voided" and changes.get("voidReason"):
        found.append(str(changes["voidReason"]))
    if kind == "updated":
        named = [field_label(name, _) for name in changes if name not in DERIVED]
        if named:
            found.append(_("changed: %(fields)s") % {"fields": ", ".join(named)})
    if "total" in changes and currency and isinstance(changes["total"], Decimal) and kind == "updated":
        found.append(_("total %(amount)s") % {"amount": view.fmt.money(changes["total"], currency)})
    return found


def _what(view: View, subject: str, kind: str) -> str:
    said = SAID_OF.get((subject, kind))
    if said is not None:
        return view.pgettext(*said)
    return view.gettext(WHAT[kind]) if kind in WHAT else kind


def timeline(view: View, entries: list[dict[str, Any]], subject: str) -> list[Moment]:
    """Newest first; ``subject`` is what the entries are the history of ("invoice", "client")."""
    _ = view.gettext
    currency: str | None = None
    status: str | None = None
    told = []
    for entry in entries:
        changes = entry.get("changes") or {}
        currency = changes.get("currency", currency)
        moved = None
        if "status" in changes and status is not None and changes["status"] != status:
            moved = (_(STATUS_NAMES.get(status, status)), _(STATUS_NAMES.get(changes["status"], changes["status"])))
        status = changes.get("status", status)
        told.append(
            Moment(
                version=int(entry["version"]),
                when=view.fmt.moment(entry.get("occurredAt")),
                when_iso=str(entry.get("occurredAt") or ""),
                who=who(view, entry.get("actor") or {}),
                what=_what(view, subject, str(entry.get("type"))),
                details=_details(view, entry, currency),
                status=moved,
            )
        )
    return list(reversed(told))
