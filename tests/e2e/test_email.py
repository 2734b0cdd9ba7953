"""Emailed sends: recorded in the request, delivered by the email follower with the PDF
attached, outcomes recorded as events. A real SMTP server (aiosmtpd) on loopback, or the
outbox directory when no server is configured."""

import email
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from followers.email import MAX_ATTEMPTS
from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from storage.work_queue import naive_utc, work_queue
from tests.conftest import Api as BaseApi
from tests.conftest import FakeClock, Tenant, TestClient, assert_error, payload, stored_state
from tests.e2e.test_operations import until
from tests.pdf_support import connections, is_loopback, pdf_text, recording

PUBLIC_URL = "https://billing.example.test"
ROOT = Path(__file__).resolve().parents[2]
# RFC 5322 §3.6.4 msg-id in the dot-atom-text form of both halves (§3.2.3).
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<{ATEXT}(?:\.{ATEXT})*@{ATEXT}(?:\.{ATEXT})*>")


# --- a mail server on loopback ------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, and refuses when told to."""

    port: int = 0
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse_data: str | None = None  # e.g. "550 5.7.1 Rejected": DATA is refused with it
    refuse_rcpt: set[str] = field(default_factory=set)  # these recipients are refused at RCPT
    on_accept: Callable[[], None] | None = None  # run once a message is kept, before the 250 goes out

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt or "*" in self.refuse_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.on_accept is not None:
            self.on_accept()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


# --- the service, as the API and the workers see it ---------------------------------------------


class Mailer(BaseApi):
    def __init__(self, http: TestClient, tenant: Tenant, services: Services) -> None:
        super().__init__(http, tenant)
        self.services = services
        self.worker = services.email_worker()

    def client_with(self, **fields: Any) -> str:
        return str(self.create_client(**{"name": "Acme Corp", "email": "billing@acme.test", **fields})["id"])

    def emailed(self, client_id: str | None = None, body: dict[str, Any] | None = None, **fields: Any) -> str:
        """A new invoice sent with email: true; its id."""
        invoice_id = str(self.create_invoice(client_id or self.client_with(), **fields)["id"])
        detail = self.send(invoice_id, {"email": True, **(body or {})})
        assert (detail["sentViaEmail"], detail["emailStatus"], detail["emailError"]) == (True, "queued", None)
        return invoice_id

    def send(self, invoice_id: str, body: Any) -> dict[str, Any]:
        response = self.post(f"/api/v1/invoices/{invoice_id}/send", body)
        assert response.status_code == 200, response.text
        return payload(response)["data"]  # type: ignore[no-any-return]

    def email_state(self, invoice_id: str) -> tuple[str | None, str | None]:
        detail = self.invoice(invoice_id)
        return detail["emailStatus"], detail["emailError"]

    def outcomes(self, invoice_id: str) -> list[Any]:
        """The EmailDelivered and EmailFailed events of the invoice, in order."""
        return [
            event
            for event in self.services.app.events.get(UUID(invoice_id))
            if type(event).__name__ in ("EmailDelivered", "EmailFailed")
        ]


def open_mailer(
    make_settings: Callable[..., Settings], clock: FakeClock, plan: str = "pro", locale: str = "en", **env: str
) -> Iterator[Mailer]:
    settings = make_settings(
        CLEVERINVO_PUBLIC_URL=PUBLIC_URL,
        CLEVERINVO_MAIL_FROM="invoices@seller.test",
        CLEVERINVO_EMAIL_RETRY_SECONDS="1",
        **env,
    )
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            details = {"email": "accounts@seller.test"}
            account_id = services.execute(lambda: services.app.open_account("Seller Ltd", plan, locale, details))
            key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
            yield Mailer(http, Tenant(account_id, key_id, key), services)
    finally:
        services.close()


@pytest.fixture
def mailer(make_settings, clock: FakeClock, smtp: Mailbox) -> Iterator[Mailer]:
    yield from open_mailer(make_settings, clock, CLEVERINVO_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}")


@pytest.fixture
def outbox_mailer(make_settings, clock: FakeClock) -> Iterator[Mailer]:
    yield from open_mailer(make_settings, clock)


def attachment(message: EmailMessage) -> tuple[str | None, bytes]:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    content = part.get_content()
    assert isinstance(content, bytes)
    return part.get_filename(), content


# --- delivery -----------------------------------------------------------------------------------


def test_an_emailed_send_arrives_with_the_pdf_and_the_link(mailer: Mailer, smtp: Mailbox):
    client_id = mailer.client_with()
    invoice_id = mailer.emailed(
        client_id, {"cc": ["boss@acme.test"], "message": "Thanks for the work!"}, invoiceNumber="INV-0042"
    )
    assert smtp.received == []  # never inside the request
    assert mailer.worker.run_once() == 1
    [(sender, recipients, message)] = smtp.received
    assert sender == "invoices@seller.test"
    assert recipients == ["billing@acme.test", "boss@acme.test"]
    assert (message["To"], message["Cc"]) == ("billing@acme.test", "boss@acme.test")
    assert message["From"] == "Seller Ltd <invoices@seller.test>"
    assert message["Reply-To"] == "accounts@seller.test"
    assert message["Subject"] == "Invoice INV-0042 from Seller Ltd"
    assert message["Date"]
    assert message["Message-ID"] == f"<invoice.{invoice_id}.send.1@seller.test>"  # ours, and this send's
    assert MSG_ID.fullmatch(message["Message-ID"])
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    share_url = mailer.invoice(invoice_id)["shareUrl"]
    assert share_url.startswith(f"{PUBLIC_URL}/i/") and share_url in text
    assert "Hello Acme Corp" in text and "$5,500.00" in text and "Thanks for the work!" in text
    filename, pdf = attachment(message)
    assert filename == "INV-0042.pdf" and pdf.startswith(b"%PDF")
    assert "INV-0042" in pdf_text(pdf)

    assert mailer.email_state(invoice_id) == ("delivered", None)
    [delivered] = mailer.outcomes(invoice_id)
    assert type(delivered).__name__ == "EmailDelivered" and delivered.recipients == recipients
    assert mailer.worker.run_once() == 0 and len(smtp.received) == 1  # delivered once
    told = mailer.http.get(f"/api/v1/invoices/{invoice_id}/history", headers=mailer.tenant.headers).json()["data"]
    assert (told[-1]["type"], told[-1]["actor"]) == ("emailDelivered", {"type": "system", "name": "email delivery"})
    assert told[-1]["changes"]["emailStatus"] == "delivered" and told[-1]["changes"]["recipients"] == recipients
    # An outcome leaves updatedAt alone in the read model; the rebuilt past version agrees.
    current = mailer.invoice(invoice_id)
    past = mailer.http.get(
        f"/api/v1/invoices/{invoice_id}", params={"version": str(told[-1]["version"])}, headers=mailer.tenant.headers
    )
    assert past.status_code == 200 and payload(past)["data"] == current


def test_to_replaces_the_clients_address(mailer: Mailer, smtp: Mailbox):
    invoice_id = mailer.emailed(body={"to": ["ap@acme.test", "cfo@acme.test"]})
    mailer.worker.run_once()
    [(_, recipients, message)] = smtp.received
    assert recipients == ["ap@acme.test", "cfo@acme.test"]
    assert message["To"] == "ap@acme.test, cfo@acme.test" and message["Cc"] is None
    assert mailer.email_state(invoice_id) == ("delivered", None)


def test_the_email_speaks_the_sellers_language(make_settings, clock: FakeClock, smtp: Mailbox):
    for vendedor in open_mailer(make_settings, clock, locale="es", CLEVERINVO_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}"):
        vendedor.emailed(invoiceNumber="F-7")
        vendedor.worker.run_once()
    [(_, _, message)] = smtp.received
    assert message["Subject"] == "Factura F-7 de Seller Ltd"
    assert message.get_body(("plain",)).get_content().startswith("Hola Acme Corp:")  # type: ignore[union-attr]


def test_every_attempt_of_one_send_carries_its_message_id_and_another_send_its_own(
    mailer: Mailer, smtp: Mailbox, clock: FakeClock
):
    smtp.refuse_data = "451 4.3.0 Try again later"
    invoice_id = mailer.emailed()
    assert mailer.worker.run_once() == 1  # refused after DATA: a receiver may still have kept it
    smtp.refuse_data = None
    clock.advance(seconds=2)
    assert mailer.worker.run_once() == 1
    mailer.send(invoice_id, {"email": True})
    assert mailer.worker.run_once() == 1
    first, second = (message["Message-ID"] for _, _, message in smtp.received)
    assert first == f"<invoice.{invoice_id}.send.1@seller.test>"
    assert second == f"<invoice.{invoice_id}.send.2@seller.test>"


def test_a_delivery_cut_off_by_a_kill_is_sent_again_with_the_same_message_id(mailer: Mailer, smtp: Mailbox):
    """Delivery is at least once: a worker killed after the server kept the message, before
    it recorded the outcome, leaves the send to the next worker, which sends it again; the
    receiver can tell the copy by its Message-ID. Real `cleverinvo workers` processes."""
    invoice_id = mailer.emailed()
    settings = mailer.services.settings
    environment = {
        **os.environ,
        "CLEVERINVO_DATA_DIR": str(settings.data_dir),
        "CLEVERINVO_SMTP_URL": str(settings.smtp_url),
        "CLEVERINVO_MAIL_FROM": settings.mail_from,
        "CLEVERINVO_PUBLIC_URL": PUBLIC_URL,
        "CLEVERINVO_WORKER_LEASE_SECONDS": "1",
    }

    def workers() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "gateway.cli.main", "workers"]
        return subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    first = workers()
    # Killed while the server has the message and the worker waits for its 250: the
    # outcome is never recorded, exactly as with a kill just after the 250.
    smtp.on_accept = lambda: os.kill(first.pid, signal.SIGKILL)
    second: subprocess.Popen[bytes] | None = None
    try:
        until(lambda: first.poll() is not None, 60, "the first worker to be killed mid-delivery")
        assert len(smtp.received) == 1 and mailer.outcomes(invoice_id) == []
        smtp.on_accept = None
        second = workers()
        until(lambda: len(mailer.outcomes(invoice_id)) == 1, 60, "the second worker to deliver it")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
            if process is not None:
                process.wait()
    kept, again = (message["Message-ID"] for _, _, message in smtp.received)
    assert kept == again == f"<invoice.{invoice_id}.send.1@seller.test>"
    [delivered] = mailer.outcomes(invoice_id)
    assert type(delivered).__name__ == "EmailDelivered"


def test_a_worker_killed_after_recording_the_outcome_leaves_one_delivery_in_the_ledger(mailer: Mailer, smtp: Mailbox):
    """The outcome (an event) and the queue item's completion commit separately. A worker
    killed between the two leaves the item to the next worker, which finds the send's
    outcome recorded: it sends nothing and records nothing, and the history shows the send
    delivered once. Real `cleverinvo workers` processes; the item's row is held from the
    moment the server has the message, so the first worker records the outcome and then
    cannot finish the item until it is killed: on PostgreSQL a row lock it waits on; on
    SQLite, where the outcome's event and the queue share the database file and its one
    write lock, a trigger that refuses to delete the item (its finish fails, and is tried
    again, with the outcome found recorded, until the kill)."""
    invoice_id = mailer.emailed()
    settings = mailer.services.settings
    environment = {
        **os.environ,
        "CLEVERINVO_DATA_DIR": str(settings.data_dir),
        "CLEVERINVO_SMTP_URL": str(settings.smtp_url),
        "CLEVERINVO_MAIL_FROM": settings.mail_from,
        "CLEVERINVO_PUBLIC_URL": PUBLIC_URL,
        "CLEVERINVO_WORKER_LEASE_SECONDS": "1",
    }

    def workers() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "gateway.cli.main", "workers"]
        return subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    queue = mailer.worker.queue
    holder = queue.writer.connect()
    on_sqlite = holder.dialect.name == "sqlite"

    def hold_the_item() -> None:  # before the 250: the worker cannot finish the item until released
        if on_sqlite:
            with queue.writer.begin() as conn:
                conn.exec_driver_sql(
                    "CREATE TRIGGER test_hold BEFORE DELETE ON work_queue WHEN OLD.follower = 'email' "
                    "BEGIN SELECT RAISE(ABORT, 'held by the test'); END"
                )
            return
        holder.begin()
        holder.execute(select(work_queue).where(work_queue.c.follower == "email").with_for_update())

    def release_the_item() -> None:
        if on_sqlite:
            with queue.writer.begin() as conn:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS test_hold")
        elif holder.in_transaction():
            holder.rollback()

    def delivered() -> list[Any]:
        return [e for e in mailer.outcomes(invoice_id) if type(e).__name__ == "EmailDelivered"]

    smtp.on_accept = hold_the_item
    first = workers()
    second: subprocess.Popen[bytes] | None = None
    try:
        until(lambda: len(delivered()) == 1, 60, "the first worker to record the delivery")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        smtp.on_accept = None
        release_the_item()
        assert queue.queued() == 1  # the kill left the item unfinished
        second = workers()
        until(lambda: queue.queued() == 0, 60, "the second worker to settle the item")
    finally:
        release_the_item()
        holder.close()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
            if process is not None:
                process.wait()
    assert len(smtp.received) == 1  # recorded as delivered: not sent again
    assert [type(e).__name__ for e in mailer.outcomes(invoice_id)] == ["EmailDelivered"]
    assert mailer.email_state(invoice_id) == ("delivered", None)


def test_an_outcome_recorded_already_is_not_recorded_again_nor_sent(mailer: Mailer, smtp: Mailbox):
    """A re-delivery of a send whose outcome is in the ledger (its worker died before
    finishing the item) sends nothing and records nothing."""
    invoice_id = mailer.emailed()
    assert mailer.worker.run_once() == 1
    recorded = mailer.outcomes(invoice_id)
    # the item as a killed worker leaves it: still queued for the same InvoiceSent
    notes = mailer.services.app.recorder.select_notifications(start=1, limit=10_000)
    [sent] = [n for n in notes if n.originator_id == UUID(invoice_id) and n.topic.endswith("InvoiceSent")]
    queue = mailer.worker.queue
    assert queue.advance(queue.position(), queue.position(), {f"{invoice_id}:1": sent.id})
    assert queue.queued() == 1
    assert mailer.worker.run_once() == 1
    assert queue.queued() == 0 and len(smtp.received) == 1
    assert mailer.outcomes(invoice_id) == recorded


def test_a_failure_recorded_already_is_kept_to_its_schedule_not_recorded_again(mailer: Mailer, smtp: Mailbox):
    """A worker that recorded a failed attempt and died before putting the item off leaves it
    due at the same attempt: the next worker records no second failure for that attempt and
    puts the item off to the retryAt the ledger already says."""
    invoice_id = mailer.emailed()
    smtp.refuse_data = "451 4.3.0 Try again later"
    assert mailer.worker.run_once() == 1
    [failed] = mailer.outcomes(invoice_id)
    assert type(failed).__name__ == "EmailFailed" and failed.attempt == 1 and failed.retry_at is not None
    queue = mailer.worker.queue
    with queue.writer.begin() as conn:  # as the killed worker left it: due now, its first attempt uncounted
        conn.execute(update(work_queue).values(attempt=0, not_before=queue.now(), owner=None, lease_until=None))
    assert mailer.worker.run_once() == 1
    assert mailer.outcomes(invoice_id) == [failed]
    with queue.reader.connect() as conn:
        row = conn.execute(select(work_queue.c.attempt, work_queue.c.not_before)).one()
    assert (row.attempt, row.not_before) == (1, naive_utc(failed.retry_at))


def test_each_emailed_send_is_delivered_and_the_status_follows_the_last(mailer: Mailer, smtp: Mailbox):
    invoice_id = mailer.emailed()
    mailer.worker.run_once()
    mailer.send(invoice_id, {"email": True, "message": "A reminder"})
    assert mailer.email_state(invoice_id) == ("queued", None)
    mailer.send(invoice_id, None)  # a send without email changes nothing of the email's
    assert mailer.email_state(invoice_id) == ("queued", None)
    assert mailer.worker.run_once() == 1
    assert len(smtp.received) == 2 and "A reminder" in smtp.received[1][2].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mailer.email_state(invoice_id) == ("delivered", None)


def test_a_send_without_email_queues_nothing(mailer: Mailer, smtp: Mailbox):
    invoice_id = str(mailer.create_invoice(mailer.client_with())["id"])
    detail = mailer.send(invoice_id, {"email": False})
    assert (detail["sentViaEmail"], detail["emailStatus"]) == (False, None)
    assert mailer.worker.run_once() == 0 and smtp.received == []


# --- refusals and retries -----------------------------------------------------------------------


def test_a_refused_message_is_failed_with_the_reply_and_retried_after_backoff(
    mailer: Mailer, smtp: Mailbox, clock: FakeClock
):
    smtp.refuse_data = "550 5.7.1 Message rejected as spam"
    invoice_id = mailer.emailed()
    assert mailer.worker.run_once() == 1
    assert mailer.email_state(invoice_id) == ("failed", "550 5.7.1 Message rejected as spam")
    [failed] = mailer.outcomes(invoice_id)
    assert (failed.attempt, failed.reply) == (1, "550 5.7.1 Message rejected as spam")
    assert failed.retry_at is not None
    assert mailer.worker.run_once() == 0  # not before the backoff (1 s) has passed
    smtp.refuse_data = None
    clock.advance(seconds=1.1)
    assert mailer.worker.run_once() == 1
    assert len(smtp.received) == 1
    assert mailer.email_state(invoice_id) == ("delivered", None)
    assert [type(e).__name__ for e in mailer.outcomes(invoice_id)] == ["EmailFailed", "EmailDelivered"]


def test_a_refused_recipient_is_failed_with_the_servers_reply(mailer: Mailer, smtp: Mailbox):
    smtp.refuse_rcpt = {"*"}
    invoice_id = mailer.emailed()
    mailer.worker.run_once()
    status, error = mailer.email_state(invoice_id)
    assert status == "failed" and error is not None
    assert "550 5.1.1 No such user here" in error and "billing@acme.test" in error
    assert "SMTPRecipientRefused(" not in error  # the reply, not a Python repr


def test_a_recipient_refused_among_others_is_reported_not_lost(mailer: Mailer, smtp: Mailbox):
    smtp.refuse_rcpt = {"boss@acme.test"}
    invoice_id = mailer.emailed(body={"cc": ["boss@acme.test"]})
    mailer.worker.run_once()
    [(_, recipients, _)] = smtp.received
    assert recipients == ["billing@acme.test"]
    status, error = mailer.email_state(invoice_id)
    assert status == "delivered"
    assert error is not None and "boss@acme.test" in error and "550 5.1.1 No such user here" in error
    [delivered] = mailer.outcomes(invoice_id)
    assert delivered.recipients == ["billing@acme.test"]
    assert mailer.worker.run_once() == 0 and len(smtp.received) == 1  # not sent twice to the others


def test_an_unreachable_server_is_a_failed_attempt_retried_later(make_settings, clock: FakeClock):
    for mailer in open_mailer(make_settings, clock, CLEVERINVO_SMTP_URL=f"smtp://127.0.0.1:{free_port()}"):
        invoice_id = mailer.emailed()
        assert mailer.worker.run_once() == 1
        status, error = mailer.email_state(invoice_id)
        assert status == "failed" and error
        assert mailer.worker.run_once() == 0
        clock.advance(seconds=2)
        assert mailer.worker.run_once() == 1


def test_after_six_failed_attempts_it_stops(mailer: Mailer, smtp: Mailbox, clock: FakeClock):
    smtp.refuse_data = "451 4.3.0 Try again later"
    invoice_id = mailer.emailed()
    attempts = 0
    for _ in range(MAX_ATTEMPTS + 3):
        attempts += mailer.worker.run_once()
        clock.advance(hours=1)
    assert attempts == MAX_ATTEMPTS == 6
    failures = mailer.outcomes(invoice_id)
    assert [f.attempt for f in failures] == [1, 2, 3, 4, 5, 6]
    assert failures[-1].retry_at is None and all(f.retry_at is not None for f in failures[:-1])
    assert mailer.email_state(invoice_id) == ("failed", "451 4.3.0 Try again later")
    assert mailer.worker.queue.queued() == 0
    smtp.refuse_data = None
    clock.advance(days=1)
    assert mailer.worker.run_once() == 0 and smtp.received == []


def test_the_backoff_doubles(mailer: Mailer, smtp: Mailbox, clock: FakeClock):
    # The application's clock, which the email queue reads too: it stands still while the
    # worker runs, so the waits are exact however slow the machine (the real clock, offset,
    # lost a second to a busy host and failed).
    smtp.refuse_data = "451 4.3.0 Try again later"
    invoice_id = mailer.emailed()
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        before = clock().replace(tzinfo=None)
        assert mailer.worker.run_once() == 1
        waits.append((mailer.outcomes(invoice_id)[-1].retry_at.replace(tzinfo=None) - before).total_seconds())
        clock.advance(hours=1)
    assert waits == [1, 2, 4, 8, 16]


# --- the outbox: no mail server -----------------------------------------------------------------


def test_without_a_server_the_message_is_an_eml_in_the_outbox(outbox_mailer: Mailer, data_dir: Path):
    invoice_id = outbox_mailer.emailed(body={"cc": ["boss@acme.test"]}, invoiceNumber="INV-0007")
    outbox = data_dir / "outbox"
    assert not outbox.exists() or list(outbox.iterdir()) == []
    connections.clear()
    recording[0] = True
    try:
        assert outbox_mailer.worker.run_once() == 1
    finally:
        recording[0] = False
    assert all(is_loopback(address) for address in connections), connections
    [eml] = outbox.iterdir()
    assert eml.suffix == ".eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    assert (message["To"], message["Cc"], message["Subject"]) == (
        "billing@acme.test",
        "boss@acme.test",
        "Invoice INV-0007 from Seller Ltd",
    )
    filename, pdf = attachment(message)
    assert filename == "INV-0007.pdf" and pdf.startswith(b"%PDF") and "INV-0007" in pdf_text(pdf)
    assert outbox_mailer.invoice(invoice_id)["shareUrl"] in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert outbox_mailer.email_state(invoice_id) == ("delivered", None)
    assert not any(path.name.startswith(".") for path in outbox.iterdir())  # no half-written file


# --- refused before anything is queued ------------------------------------------------------------


def test_email_on_the_free_plan_is_403_and_queues_nothing(make_settings, clock: FakeClock, smtp: Mailbox):
    for mailer in open_mailer(make_settings, clock, "free", CLEVERINVO_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}"):
        invoice_id = str(mailer.create_invoice(mailer.client_with())["id"])
        before = stored_state(mailer.services)
        message = assert_error(mailer.post(f"/api/v1/invoices/{invoice_id}/send", {"email": True}), 403)
        assert message.startswith("Plan limit reached") and "email" in message
        assert stored_state(mailer.services) == before
        assert mailer.worker.run_once() == 0 and smtp.received == []


def test_a_client_without_an_address_is_400_unless_to_is_given(mailer: Mailer, smtp: Mailbox):
    client_id = mailer.client_with(email=None)
    invoice_id = str(mailer.create_invoice(client_id)["id"])
    before = stored_state(mailer.services)
    assert_error(mailer.post(f"/api/v1/invoices/{invoice_id}/send", {"email": True}), 400)
    assert stored_state(mailer.services) == before
    assert mailer.worker.run_once() == 0
    mailer.send(invoice_id, {"email": True, "to": ["someone@acme.test"]})
    assert mailer.worker.run_once() == 1 and smtp.received[0][1] == ["someone@acme.test"]


# --- what changed between the send and its delivery ---------------------------------------------


def test_an_invoice_voided_before_its_email_went_out_is_not_emailed(mailer: Mailer, smtp: Mailbox):
    """Asking a client to pay a void invoice would be worse than not writing at all: the
    email is not delivered, and the detail says why."""
    invoice_id = mailer.emailed()
    response = mailer.post(f"/api/v1/invoices/{invoice_id}/void", {"reason": "Wrong amount"})
    assert response.status_code == 200
    assert mailer.worker.run_once() == 1
    assert smtp.received == []
    status, error = mailer.email_state(invoice_id)
    assert status == "failed" and error is not None and "void" in error
    [failed] = mailer.outcomes(invoice_id)
    assert failed.retry_at is None
    assert mailer.worker.queue.queued() == 0


def test_a_client_address_removed_before_delivery_is_a_failure_not_a_crash(mailer: Mailer, smtp: Mailbox):
    client_id = mailer.client_with()
    invoice_id = mailer.emailed(client_id)
    mailer.patch(f"/api/v1/clients/{client_id}", {"email": None})
    assert mailer.worker.run_once() == 1
    status, error = mailer.email_state(invoice_id)
    assert status == "failed" and error is not None and "address" in error
    assert mailer.worker.queue.queued() == 0 and smtp.received == []


def test_a_client_address_changed_before_delivery_is_used(mailer: Mailer, smtp: Mailbox):
    client_id = mailer.client_with()
    mailer.emailed(client_id)
    mailer.patch(f"/api/v1/clients/{client_id}", {"email": "new@acme.test"})
    mailer.worker.run_once()
    assert smtp.received[0][1] == ["new@acme.test"]


def test_a_paid_invoice_queued_for_email_is_still_sent(mailer: Mailer, smtp: Mailbox):
    invoice_id = mailer.emailed()
    assert mailer.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": 5500}).status_code == 201
    mailer.worker.run_once()
    assert len(smtp.received) == 1 and mailer.email_state(invoice_id) == ("delivered", None)


# --- more than one worker -----------------------------------------------------------------------


def test_two_worker_processes_deliver_each_send_once(mailer: Mailer, smtp: Mailbox):
    # another process on the same data directory (and the same clock: leases compare times)
    other = Services(mailer.services.settings, clock=mailer.services.clock)
    try:
        invoices = [mailer.emailed() for _ in range(4)]
        workers = [mailer.worker, other.email_worker()]
        start = threading.Barrier(2)
        done: list[int] = []

        def run(worker: Any) -> None:
            start.wait()
            done.append(worker.run_once())

        threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(done) == 4 and len(smtp.received) == 4
        assert {mailer.email_state(i) for i in invoices} == {("delivered", None)}
    finally:
        other.close()


def test_a_message_that_cannot_be_prepared_is_a_failed_attempt_not_a_stuck_one(
    mailer: Mailer, smtp: Mailbox, clock: FakeClock
):
    render = mailer.services.pdfs.renderer

    def broken(_source: Any) -> bytes:
        raise RuntimeError("the renderer broke")

    mailer.services.pdfs.renderer = broken
    invoice_id = mailer.emailed()
    assert mailer.worker.run_once() == 1  # no exception escapes the worker
    status, error = mailer.email_state(invoice_id)
    assert status == "failed" and error is not None and "could not be prepared" in error
    assert "the renderer broke" not in error  # internals stay in the log
    mailer.services.pdfs.renderer = render
    clock.advance(seconds=2)
    assert mailer.worker.run_once() == 1
    assert mailer.email_state(invoice_id) == ("delivered", None) and len(smtp.received) == 1


def test_a_servers_reply_is_kept_bounded_and_clean(mailer: Mailer, smtp: Mailbox):
    smtp.refuse_data = "550 " + "Spam\x07 detected;\tgo away " * 200  # hostile: long, with control characters
    invoice_id = mailer.emailed()
    assert mailer.worker.run_once() == 1
    status, reply = mailer.email_state(invoice_id)
    assert status == "failed" and reply is not None
    assert len(reply) <= 500 and reply.endswith("…") and "\x07" not in reply and "\t" not in reply
    assert reply.startswith("550 Spam detected; go away Spam")
    [failed] = mailer.outcomes(invoice_id)
    assert failed.reply == reply  # the event holds the same bounded words
