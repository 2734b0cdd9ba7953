"""The email follower: delivers every emailed send of an invoice, never inside a request.

The store is the outbox. A send with ``email: true`` is an InvoiceSent event; this follower
queues it (storage/work_queue.py) in the transaction that moves its position, then
delivers it with the invoice's PDF attached and records the outcome as an event on the
invoice: EmailDelivered, or EmailFailed with the server's reply and, while attempts remain,
when it will try again (exponential backoff). A worker that dies mid-delivery leaves the
item leased; it is tried again when the lease runs out. Delivery is therefore at least
once: a worker killed after the server took the message, before the outcome was recorded,
sends it again, with the same ``Message-ID`` (followers/mail.py) so the receiver can drop
the copy. The ledger, though, records each attempt's outcome once. The outcome (an event in
the store) and the item's completion (a row of the queue) cannot commit together: on SQLite
they are two database files, and the event store's transaction is not ours to join on
PostgreSQL. So an attempt first looks for an outcome of its own send and attempt already
recorded after the InvoiceSent (a worker killed between recording and finishing left it):
if there is one it sends nothing and records nothing, and only does with the queue what
that outcome said (done, or retried at its ``retryAt``). The outcome is recorded at the
invoice's version that was looked at (the store refuses a second writer at that version), so
two workers holding one send (a lease that ran out mid-delivery) cannot both record it.
An invoice voided before its email
went out is not emailed (nobody should be asked to pay it): that is recorded as a failure
saying so, as is a send whose client no longer has an address; neither is tried again.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.actors import acting_as, system
from domain.application import CleverInvo, replay
from domain.lifecycle import VOID
from followers.mail import DeliveryFailed, Envelope, compose, deliver
from pdf.service import InvoicePdfs
from projections.projector import ReadModelProjector
from projections.queries import ReadModel
from storage.work_queue import QueuedItem, WorkQueue

log = logging.getLogger("cleverinvo.email")
BATCH = 500
LEASE_BATCH = 4
MAX_ATTEMPTS = 6
SENT = "Invoice.InvoiceSent"
RECORD_TRIES = 20  # writers racing on one invoice: each try reads it again


class EmailWorker:
    def __init__(
        self,
        app: CleverInvo,
        projector: ReadModelProjector,
        read: ReadModel,
        pdfs: InvoicePdfs,
        queue: WorkQueue,
        *,
        smtp_url: str | None,
        sender: str,
        outbox: Path,
        public_url: str,
        retry_seconds: float,
        lease_seconds: float,
    ) -> None:
        self.app = app
        self.projector = projector
        self.read = read
        self.pdfs = pdfs
        self.queue = queue
        self.smtp_url = smtp_url
        self.sender = sender
        self.outbox = outbox
        self.public_url = public_url.rstrip("/")
        self.retry_seconds = retry_seconds
        self.lease_seconds = lease_seconds
        self.owner = pdfs.owner

    def follow(self) -> None:
        """Queues every emailed send recorded so far."""
        limit = self.projector.catch_up()
        for start, notes, end in self.queue.unqueued(self.app.recorder, limit, BATCH):
            sends: dict[str, int] = {}
            for note in notes:
                if note.topic.rsplit(":", 1)[-1] == SENT:
                    sent: Any = self.app.mapper.to_domain_event(note)
                    if getattr(sent, "email", False):
                        sends[f"{note.originator_id}:{sent.number}"] = note.id
            self.queue.advance(start, end, sends)

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Follows the store, then delivers what is due; returns how many it attempted."""
        self.follow()
        attempted = 0
        while not (stop and stop.is_set()):
            items = self.queue.lease(self.owner, LEASE_BATCH, self.lease_seconds)
            if not items:
                break
            for number, item in enumerate(items):
                if stop and stop.is_set():
                    self.queue.release(self.owner, items[number:])
                    break
                with acting_as(system("email delivery")):
                    self._deliver(item)
                attempted += 1
        if attempted:  # the outcomes it recorded show on the detail at once, as the sweep's do
            self.projector.catch_up()
        return attempted

    def _event(self, item: QueuedItem) -> Any:
        [note] = self.app.recorder.select_notifications(start=item.seq, limit=1)
        return self.app.mapper.to_domain_event(note)

    def _recorded(self, sent: Any, attempt: int, upto: int | None = None) -> Any | None:
        """The outcome recorded for attempt ``attempt`` of this send, if any: its
        EmailDelivered (whichever attempt recorded it: a send delivered is done), or the
        EmailFailed of this very attempt. Only events after the InvoiceSent are read."""
        found = self.app.sealed_events(sent.originator_id, after=sent.originator_version, upto=upto)
        for event, _seal in found:
            if getattr(event, "send", None) != sent.number:
                continue
            kind = type(event).__name__
            if kind == "EmailDelivered" or (kind == "EmailFailed" and getattr(event, "attempt", None) == attempt):
                return event
        return None

    def _settle(self, item: QueuedItem, outcome: Any) -> None:
        """Does with the queue what a recorded ``outcome`` says: done, or tried again at its retryAt."""
        retry_at = getattr(outcome, "retry_at", None)
        if type(outcome).__name__ == "EmailFailed" and retry_at is not None:
            self.queue.retry(self.owner, item, retry_at)
        else:
            self.queue.finish(self.owner, item)

    def _record(self, item: QueuedItem, sent: Any, write: Callable[[Any], None]) -> None:
        """Records this attempt's outcome with ``write(invoice)`` unless it is recorded
        already, at the version looked at: a writer that got there first makes the store
        refuse this one (IntegrityError), and the look is taken again."""
        for _ in range(RECORD_TRIES):
            invoice = self.app.repository.get(sent.originator_id, projector_func=replay)
            if self._recorded(sent, item.attempt + 1, upto=invoice.version) is not None:
                log.info("Email of invoice %s (send %s): outcome recorded already", sent.originator_id, sent.number)
                return
            write(invoice)
            try:
                self.app.save(invoice)
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"Email of invoice {sent.originator_id}: its outcome could not be recorded")

    def _deliver(self, item: QueuedItem) -> None:
        sent = self._event(item)
        earlier = self._recorded(sent, item.attempt + 1)
        if earlier is not None:  # a worker recorded this attempt and died before finishing it
            log.info("Email of invoice %s (send %s): recorded already, not sent again", sent.originator_id, sent.number)
            self._settle(item, earlier)
            return
        invoice_id = str(sent.originator_id)
        account_id = self.read.invoice_account(invoice_id)
        invoice = self.read.invoice(account_id, invoice_id) if account_id else None
        account = self.read.account(account_id) if account_id else None
        if invoice is None or account is None:  # deleted since: there is nothing to send
            self.queue.finish(self.owner, item)
            return
        to = list(sent.to) or [email for email in [self._client_email(account_id, invoice.client_id)] if email]
        envelope = Envelope(to=to, cc=list(sent.cc), message=sent.message)
        recipients = [*envelope.to, *envelope.cc]
        # Reasons no later attempt can change: recorded as a failure, and not tried again.
        if invoice.status == VOID:  # a client must not be asked to pay a void invoice
            reply = "Not sent: the invoice was voided before its email went out"
            self._failed(item, sent, recipients, reply, final=True)
            return
        if not to:
            reply = "Not sent: the client has no email address any more; send it again with 'to'"
            self._failed(item, sent, recipients, reply, final=True)
            return
        try:
            pdf = self.pdfs.get(account.id, invoice_id)
            if pdf is None:
                self.queue.finish(self.owner, item)
                return
            link = f"{self.public_url}/i/{invoice.share_token}"
            message = compose(invoice, account, envelope, pdf.content, link, self.sender, sent.number)
        except Exception as exc:  # a failed attempt like any other, not an item stuck in its lease
            log.exception("Email of invoice %s could not be prepared", invoice_id)
            self._failed(item, sent, recipients, f"Not sent: the message could not be prepared ({type(exc).__name__})")
            return
        try:
            delivered = deliver(message, self.smtp_url, self.outbox)
        except DeliveryFailed as failure:
            self._failed(item, sent, recipients, failure.reply)
            return
        got = [address for address in recipients if address not in delivered.refused]
        refused = "; ".join(f"{reply} ({address})" for address, reply in delivered.refused.items()) or None
        log.info("Emailed invoice %s (send %s) to %s via %s", invoice_id, sent.number, got, delivered.where)
        if refused:
            log.warning("Email of invoice %s: the server refused %s", invoice_id, refused)
        outcome = f"Refused: {refused}" if refused else None
        at = self.app.clock()
        self._record(
            item, sent, lambda invoice: invoice.email_delivered(send=sent.number, at=at, recipients=got, reply=outcome)
        )
        self.queue.finish(self.owner, item)

    def _client_email(self, account_id: str | None, client_id: str) -> str | None:
        client = self.read.client(account_id, client_id) if account_id else None
        return client.email if client else None

    def _failed(self, item: QueuedItem, sent: Any, recipients: list[str], reply: str, final: bool = False) -> None:
        """Records a failed attempt; tries again after a backoff unless it was the last or ``final``."""
        attempt = item.attempt + 1
        retry_at: datetime | None = None
        if attempt < MAX_ATTEMPTS and not final:
            retry_at = self.queue.now() + timedelta(seconds=self.retry_seconds * 2 ** (attempt - 1))
        log.warning("Email of invoice %s failed (attempt %d): %s", sent.originator_id, attempt, reply)
        at = self.app.clock()
        self._record(
            item,
            sent,
            lambda invoice: invoice.email_failed(
                send=sent.number, at=at, reply=reply, attempt=attempt, retry_at=retry_at
            ),
        )
        if retry_at is None:
            self.queue.finish(self.owner, item)
        else:
            self.queue.retry(self.owner, item, retry_at)
