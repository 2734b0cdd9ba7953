"""Invoice emails: the message (text, the share link, the PDF attached) and its delivery.

With CLEVERINVO_SMTP_URL (``smtp://user:pass@host:587``, STARTTLS when the server offers
it; ``smtps://`` for TLS from the first byte; ``?starttls=required`` refuses a server that
cannot) it is handed to that server with aiosmtplib. Without it, the message is written as
an ``.eml`` file into ``<data dir>/outbox/``: the embedded default needs no mail server,
and a user can open exactly what would have been sent.

Delivery is at least once: a worker killed after the server took a message but before the
outcome was recorded sends it again. So every message of one send carries the same
``Message-ID`` (``message_id``), on every attempt, and a receiver that has it already can
drop the copy.
"""

import asyncio
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from pdf.filenames import content_disposition
from pdf.formats import Formats
from projections.views import AccountView, InvoiceDetail
from translations import N_, told

SMTP_TIMEOUT = 30.0
INVOICE_HEADER = "X-CleverInvo-Invoice"  # lets a mail client or the outbox find the invoice

# The message's words, from the product's catalog (``translations``), in the seller's language.
SUBJECT = N_("Invoice %(number)s from %(seller)s")
BODY = N_(
    "Hello %(client)s,\n\nPlease find invoice %(number)s for %(total)s attached, due on %(due)s.\n"
    "You can also view it online: %(link)s\n\n%(message)sKind regards,\n%(seller)s\n"
)


class DeliveryFailed(Exception):
    """The mail server refused the message or could not be reached; ``reply`` says why."""

    def __init__(self, reply: str) -> None:
        super().__init__(bounded(reply))
        self.reply = bounded(reply)


# RFC 5322 §3.2.3: dot-atom-text, the form both halves of our msg-id take (§3.6.4).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")


def message_id(invoice_id: str, send: int, sender: str) -> str:
    """The ``Message-ID`` of an invoice's ``send``-th send: the same on every delivery of
    that send, unique across sends and invoices (RFC 5322 §3.6.4: "<" id-left "@"
    id-right ">", both dot-atom-text). The right half is the sender address's domain, ours;
    a domain that is not dot-atom-text (a literal such as ``[10.0.0.1]``) gives ``localhost``."""
    domain = sender.rpartition("@")[2]
    if not DOT_ATOM.fullmatch(domain):
        domain = "localhost"
    return f"<invoice.{invoice_id}.send.{send}@{domain}>"


@dataclass(frozen=True)
class Envelope:
    to: list[str]
    cc: list[str]
    message: str | None


def compose(
    invoice: InvoiceDetail,
    account: AccountView,
    envelope: Envelope,
    pdf: bytes,
    link: str,
    sender: str,
    send: int,
) -> EmailMessage:
    """The message of the invoice's ``send``-th send (its number names it: ``message_id``)."""
    formats = Formats(account.locale)
    language = str(formats.locale.language)
    values = {
        "number": invoice.invoice_number,
        "seller": account.name,
        "client": invoice.client_name,
        "total": formats.money(invoice.balance_due or invoice.total, invoice.currency),
        "due": formats.date(invoice.due_date),
        "link": link,
        "message": f"{envelope.message}\n\n" if envelope.message else "",
    }
    message = EmailMessage()
    message["Subject"] = told(language, SUBJECT) % values
    message["From"] = formataddr((account.name, sender))
    message["To"] = ", ".join(envelope.to)
    if envelope.cc:
        message["Cc"] = ", ".join(envelope.cc)
    if account.email:
        message["Reply-To"] = account.email
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message[INVOICE_HEADER] = invoice.invoice_number
    message["Message-ID"] = message_id(invoice.id, send, sender)
    message.set_content(told(language, BODY) % values)
    filename = f"{invoice.invoice_number}.pdf"
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    attachment = list(message.iter_attachments())[-1]
    attachment.replace_header("Content-Disposition", content_disposition(filename))
    return message


@dataclass(frozen=True)
class Delivered:
    """Where the message went, and the recipients the server refused while taking it for
    the others (address -> reply); a retry would send the others a second copy."""

    where: str
    refused: dict[str, str]


MAX_REPLY = 500  # characters of a server's reply kept in events, answers and logs


def bounded(text: str, most: int = MAX_REPLY) -> str:
    """A mail server's words as we keep them: control characters as spaces, runs of
    whitespace as one, at most ``most`` characters. A hostile or broken server must not
    fill events, API answers or the log."""
    cleaned = " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).split())
    return cleaned if len(cleaned) <= most else cleaned[: most - 1] + "…"


def _reply(code: int, message: str) -> str:
    return bounded(f"{code} {message}")


def deliver(message: EmailMessage, smtp_url: str | None, outbox: Path) -> Delivered:
    """Sends the message. Raises DeliveryFailed with the server's reply when nobody got it."""
    if smtp_url is None:
        return Delivered(str(_write_eml(message, outbox)), {})
    url = urlsplit(smtp_url)
    options = {key: values[-1] for key, values in parse_qs(url.query).items()}
    tls = url.scheme == "smtps"
    starttls = None if options.get("starttls") != "required" else True
    try:
        refused, _ = asyncio.run(
            aiosmtplib.send(
                message,
                hostname=url.hostname,
                port=url.port or (465 if tls else 587),
                username=unquote(url.username) if url.username else None,
                password=unquote(url.password) if url.password else None,
                use_tls=tls,
                start_tls=False if tls else starttls,
                timeout=SMTP_TIMEOUT,
            )
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:  # every recipient: say what was said of each
        replies = [f"{_reply(each.code, each.message)} ({each.recipient})" for each in exc.recipients]
        raise DeliveryFailed("; ".join(replies)) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise DeliveryFailed(_reply(exc.code, exc.message)) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as exc:  # ValueError: an unsendable address
        raise DeliveryFailed(str(exc) or type(exc).__name__) from None
    return Delivered(
        f"{url.hostname}:{url.port or (465 if tls else 587)}",
        {address: _reply(response.code, response.message) for address, response in refused.items()},
    )


def _write_eml(message: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    # Named so that a listing reads in order: when, which invoice, and a tie-breaker.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    number = str(message.get(INVOICE_HEADER, "message"))
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", f"{stamp}-{number}-{uuid.uuid4().hex[:8]}")
    target = outbox / f"{stem}.eml"
    handle, temporary = tempfile.mkstemp(dir=outbox, prefix=".", suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(message.as_bytes())
    os.replace(temporary, target)  # a reader never sees half a message
    return target
