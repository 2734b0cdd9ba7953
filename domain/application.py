"""The event-sourced application: each public method is one command, one atomic save."""

import contextlib
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import EventStore, IntegrityError, JSONTranscoder, Mapper, Recording

from domain.account import Account, check_account_name, check_locale, check_plan
from domain.client import Client, check_client_fields, is_email
from domain.errors import Conflict, NotFound, PlanLimitReached, ValidationError
from domain.integrity import Unverified
from domain.invoice import (
    Invoice,
    InvoiceDraft,
    Sending,
    check_currency,
    check_dates,
    check_lines,
    check_number,
    check_text,
    default_due_date,
)
from domain.keys import display_prefix, hash_key, new_key
from domain.ledger import LedgerEventStore, LedgerMapper, recorded_on
from domain.money import price_lines
from domain.owners import OwnerEmail, check_owner_email
from domain.plans import limits_of
from domain.quotas import ClientQuota, InvoiceNumber, InvoiceNumbering, InvoiceQuota, number_key
from domain.snapshots import LedgerSnapshotStore
from domain.timeline import Timeline, accounts, floors, restamp
from domain.transcodings import DateAsISO, LineItemAsDict, PaymentAsDict
from domain.versions import Expected, expect

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]

# A racing save fails on an aggregate's version and the command is run again on fresh
# state; this many tries is far past any contention one account sees.
MAX_ATTEMPTS = 30
# Aggregates kept in memory between commands (eventsourcing's repository cache). A cached
# one is brought up to date from the store on every load (fast-forward: the events after
# its version, usually none), so other processes' writes are seen, and a command gets a
# copy, so a refused command leaves the cached one untouched. An account's small counting
# aggregates (quotas, numbering) are loaded by every create: cached, they are one indexed
# read each instead of a snapshot and up to 49 events replayed.
AGGREGATE_CACHE_SIZE = 2000
# Commands on one account run one at a time in a process (a lock per stripe of accounts):
# every create saves the account's quota and numbering aggregates, so concurrent creates in
# one account would otherwise all fail on their versions but one, and retry. Measured with
# 32 connections creating invoices: 13 ms of CPU per create against 7 ms with one. Racing
# processes still meet on versions and retry.
ACCOUNT_STRIPES = 256


def replay(aggregate: Any, events: Iterable[DomainEventProtocol[UUID]]) -> Any:
    """eventsourcing's ``project_aggregate`` without its per-event ``isinstance`` against a
    runtime-checkable Protocol (12-20 µs each on Python 3.11): every event here is one of
    our aggregates' own, or a snapshot, and mutates."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)  # type: ignore[attr-defined]
    return aggregate


def utc_now() -> datetime:
    return datetime.now(UTC)


def _short_text(value: str | None, wire: str, most: int = 255) -> str | None:
    """Stripped, blank as None, at most ``most`` characters: like every other text field."""
    text = value.strip() if value is not None else None
    if not text:
        return None
    if len(text) > most:
        raise ValidationError(f"Field '{wire}' must be at most {most} characters")
    return text


class CleverInvo(Application[UUID]):
    name = "CleverInvo"
    # Long-lived aggregates load from their latest snapshot; an invoice's past versions too.
    snapshotting_intervals = {ClientQuota: 50, InvoiceQuota: 50, InvoiceNumbering: 50, Invoice: 50}
    env = {"AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE)}  # the environment may say otherwise

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env)
        self.clock = clock
        self.timeline = Timeline(clock, self._head_time)  # recorded times never go backwards
        self._stripes = [threading.RLock() for _ in range(ACCOUNT_STRIPES)]

    def construct_mapper(self) -> Mapper[UUID]:
        return LedgerMapper(transcoder=self.construct_transcoder())

    def construct_event_store(self) -> EventStore[UUID]:
        """Events are sealed into the ledger as they are stored (``domain.ledger``)."""
        return LedgerEventStore(mapper=self.mapper, recorder=self.recorder)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots are sealed to the event they fold, and checked as they are loaded."""
        if not isinstance(self.events, LedgerEventStore):  # an application that does not seal
            return super().construct_snapshot_store()
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return LedgerSnapshotStore(mapper=self.mapper, recorder=recorder, events=self.events)

    def _head_time(self) -> datetime | None:
        """When the store's last event in commit order was recorded (None: no event yet)."""
        head = self.recorder.max_notification_id()
        found = self.recorder.select_notifications(start=head, limit=1) if head else []
        return recorded_on(self.mapper.to_domain_event(found[0])) if found else None

    def now(self) -> datetime:
        """The time a command writes into its values: the clock, held at the latest recorded
        time while it is behind it (domain/timeline.py)."""
        return self.timeline.now()

    def save(
        self, *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Records the aggregates' pending events, all at the save's stamp (domain/timeline.py):
        never before the store's latest event nor each stream's previous one."""
        aggregates = [obj for obj in objs if isinstance(obj, Aggregate)]
        if any(aggregate.pending_events for aggregate in aggregates):
            restamp(aggregates, self.timeline.stamp(floors(aggregates), accounts(aggregates)))
        return super().save(*objs, **kwargs)

    @property
    def ledger(self) -> LedgerEventStore | None:
        """The sealing event store (None for an application that does not seal)."""
        return self.events if isinstance(self.events, LedgerEventStore) else None

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(LineItemAsDict())
        transcoder.register(PaymentAsDict())

    # --- helpers -------------------------------------------------------------------

    def _retrying(self, command: Callable[[], T], account_id: UUID | None = None) -> T:
        with self._serialized(account_id):
            for attempt in range(MAX_ATTEMPTS):
                try:
                    return command()
                except IntegrityError:
                    time.sleep(random.uniform(0, 0.001 * 2 ** min(attempt, 6)))
        raise Conflict("Too many concurrent changes to this account; try again")

    def _serialized(self, account_id: UUID | None) -> AbstractContextManager[Any]:
        """The account's stripe lock (re-entrant), or nothing for a command without one."""
        if account_id is None:
            return contextlib.nullcontext()
        return self._stripes[account_id.int % ACCOUNT_STRIPES]

    def _get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _load(self, cls: type[A], aggregate_id: UUID) -> A:
        """Loads an aggregate that the account's own aggregates guarantee to exist."""
        aggregate = self._get(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{cls.__name__} not found")
        return aggregate

    def sealed_events(
        self, aggregate_id: UUID, after: int = 0, upto: int | None = None
    ) -> list[tuple[DomainEventProtocol[UUID], dict[str, Any] | None]]:
        """The aggregate's events after version ``after`` (through ``upto``), each with
        its ``_ledger`` seal (actor, hashes); None for one stored before sealing began."""
        mapper = cast(LedgerMapper, self.mapper)
        found = self.recorder.select_events(aggregate_id, gt=after or None, lte=upto)
        if self.ledger is not None:  # checked as a load checks them: never told if not verified
            self.ledger.check_run(aggregate_id, found, after)
        return [mapper.read(stored) for stored in found]

    def sealed_event(self, position: int) -> tuple[DomainEventProtocol[UUID], dict[str, Any] | None] | None:
        """The event at ``position`` in commit order (its notification id), with its seal."""
        found = self.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            return None
        if self.ledger is not None:
            self.ledger.check_each(found[0].originator_id, found)
        return cast(LedgerMapper, self.mapper).read(found[0])

    def get_account(self, account_id: UUID) -> Account:
        account = self._get(Account, account_id)
        if account is None:
            raise NotFound("Account not found")
        return account

    def get_client(self, account_id: UUID, client_id: UUID) -> Client:
        client = self._get(Client, client_id)
        if client is None or client.account_id != account_id:
            raise NotFound("Client not found")
        return client

    def get_invoice(self, account_id: UUID, invoice_id: UUID) -> Invoice:
        invoice = self._get(Invoice, invoice_id)
        if invoice is None or invoice.account_id != account_id or invoice.is_deleted:
            raise NotFound("Invoice not found")
        return invoice

    def _active_client(self, account_id: UUID, client_id: UUID) -> Client:
        client = self._get(Client, client_id)
        if client is None or client.account_id != account_id or not client.is_active:
            raise ValidationError("Field 'clientId' must name an active client of this account")
        return client

    # --- accounts and keys -----------------------------------------------------------

    def open_account(
        self, name: str, plan: str = "free", locale: str = "en", details: Mapping[str, str | None] | None = None
    ) -> UUID:
        account = Account(check_account_name(name), check_plan(plan), check_locale(locale))
        if details:
            account.update(details)
        self.save(account, ClientQuota(account_id=account.id), InvoiceNumbering(account_id=account.id))
        return account.id

    def update_account(self, account_id: UUID, values: Mapping[str, str | None]) -> None:
        """Changes the account's name, locale or seller details (address, email, tax id, phone)."""

        def command() -> None:
            account = self.get_account(account_id)
            account.update(values)
            self.save(account)

        self._retrying(command, account_id)

    def change_plan(self, account_id: UUID, plan: str) -> None:
        def command() -> None:
            account = self.get_account(account_id)
            account.change_plan(plan)
            self.save(account)

        self._retrying(command, account_id)

    def issue_api_key(self, account_id: UUID, name: str = "") -> tuple[UUID, str]:
        """Returns the key's id and the key itself, which is never stored."""
        label = name.strip()
        if len(label) > 255:
            raise ValidationError("Key name must be at most 255 characters")
        key = new_key()
        key_id = uuid4()

        def command() -> None:
            account = self.get_account(account_id)
            account.issue_key(key_id, hash_key(key), label, display_prefix(key))
            self.save(account)

        self._retrying(command, account_id)
        return key_id, key

    def revoke_api_key(self, account_id: UUID, key_id: UUID) -> None:
        def command() -> None:
            account = self.get_account(account_id)
            account.revoke_key(key_id)
            self.save(account)

        self._retrying(command, account_id)

    # --- owners ------------------------------------------------------------------

    def owner_by_email(self, email: str) -> OwnerEmail | None:
        """Who signs in with ``email`` (any capitalisation), if anyone."""
        return self._get(OwnerEmail, OwnerEmail.create_id(email))

    def add_owner(self, account_id: UUID, email: str, *, first: bool = False) -> UUID:
        """Adds someone who signs in with ``email`` to act for the account; an email
        belongs to one owner of one account. With ``first``, only while the account has
        no owner: of two racing first owners, one is added (the other fails on the
        account's version, and finds it owned on its retry)."""
        address = check_owner_email(email)

        def command() -> UUID:
            account = self.get_account(account_id)
            if first and account.owners:
                raise NotFound("The account has its first owner already")
            if self.owner_by_email(address) is not None:
                raise Conflict("This email already signs in to an account")
            owner_id = uuid4()
            account.add_owner(owner_id, address)
            self.save(account, OwnerEmail(address, owner_id, account_id))
            return owner_id

        return self._retrying(command, account_id)

    # --- clients -----------------------------------------------------------------

    def create_client(self, account_id: UUID, values: Mapping[str, str | None]) -> UUID:
        clean = check_client_fields(values, creating=True)

        def command() -> UUID:
            limit = limits_of(self.get_account(account_id).plan).active_clients
            quota = self._load(ClientQuota, ClientQuota.create_id(account_id))
            client = Client(
                account_id=account_id,
                name=str(clean["name"]),
                email=clean.get("email"),
                address=clean.get("address"),
                tax_id=clean.get("tax_id"),
                phone=clean.get("phone"),
                notes=clean.get("notes"),
            )
            quota.take(client.id, limit)
            self.save(client, quota)
            return client.id

        return self._retrying(command, account_id)

    def update_client(
        self, account_id: UUID, client_id: UUID, values: Mapping[str, Any], expected: Expected = None
    ) -> int:
        """Changes client fields; ``is_active`` in ``values`` deactivates or reactivates.
        Refused unless the client is at an ``expected`` version; returns its new version."""
        fields = {name: value for name, value in values.items() if name != "is_active"}
        check_client_fields(fields, creating=False)

        def command() -> int:
            client = self.get_client(account_id, client_id)
            expect(client, expected, "Client")
            client.update(fields)
            quota: ClientQuota | None = None
            if "is_active" in values and values["is_active"] != client.is_active:
                quota = self._load(ClientQuota, ClientQuota.create_id(account_id))
                if values["is_active"]:
                    quota.take(client.id, limits_of(self.get_account(account_id).plan).active_clients)
                    client.reactivate()
                else:
                    quota.release(client.id)
                    client.deactivate()
            self.save(client, quota)
            return int(client.version)

        return self._retrying(command, account_id)

    def deactivate_client(self, account_id: UUID, client_id: UUID, expected: Expected = None) -> int:
        return self.update_client(account_id, client_id, {"is_active": False}, expected)

    def version_of(self, aggregate_id: UUID) -> int | None:
        """The aggregate's latest version in the store (one indexed read), None if it has none."""
        found = self.recorder.select_events(aggregate_id, desc=True, limit=1)
        return found[0].originator_version if found else None

    # --- invoices ----------------------------------------------------------------

    def _number_index(self, account_id: UUID, number: str) -> InvoiceNumber | None:
        return self._get(InvoiceNumber, InvoiceNumber.create_id(account_id, number_key(number)))

    def _claim(self, account_id: UUID, number: str, invoice_id: UUID, index: InvoiceNumber | None) -> InvoiceNumber:
        if index is None:
            return InvoiceNumber(account_id=account_id, key=number_key(number), number=number, invoice_id=invoice_id)
        index.take(number, invoice_id)
        return index

    def _reserve_number(self, account_id: UUID, number: str, invoice_id: UUID) -> InvoiceNumber:
        return self._claim(account_id, number, invoice_id, self._number_index(account_id, number))

    def _next_number(self, account_id: UUID, invoice_id: UUID) -> tuple[InvoiceNumbering, InvoiceNumber]:
        numbering = self._load(InvoiceNumbering, InvoiceNumbering.create_id(account_id))
        sequence = numbering.next_sequence
        while True:
            number = f"INV-{sequence:04d}"
            index = self._number_index(account_id, number)
            if index is None or not index.is_taken:
                numbering.assigned(number, sequence)
                # Claim the index just read: a second read could see a racing create's number
                # and refuse with Conflict, where a stale one fails the save and is retried.
                return numbering, self._claim(account_id, number, invoice_id, index)
            sequence += 1

    def create_invoice(self, account_id: UUID, draft: InvoiceDraft) -> UUID:
        currency = check_currency(draft.currency)
        drafts = check_lines(draft.line_items)
        lines, totals = price_lines(drafts, currency)
        number = check_number(draft.invoice_number) if draft.invoice_number is not None else None
        notes, terms = check_text(draft.notes, "notes"), check_text(draft.terms, "terms")

        def command() -> UUID:
            now = self.clock()  # business dates (issue date, quota month) are the clock's own
            issue_date = draft.issue_date or now.date()
            due_date = draft.due_date or default_due_date(issue_date)
            check_dates(issue_date, due_date)
            self._active_client(account_id, draft.client_id)
            limit = limits_of(self.get_account(account_id).plan).invoices_per_month
            month = now.strftime("%Y-%m")
            quota = self._get(InvoiceQuota, InvoiceQuota.create_id(account_id, month)) or InvoiceQuota(
                account_id=account_id, month=month
            )
            invoice_id = uuid4()
            numbering: InvoiceNumbering | None = None
            if number is None:
                numbering, index = self._next_number(account_id, invoice_id)
            else:
                index = self._reserve_number(account_id, number, invoice_id)
            quota.count(invoice_id, limit)
            invoice = Invoice(  # type: ignore[call-arg]  # eventsourcing accepts a chosen id
                id=invoice_id,
                account_id=account_id,
                client_id=draft.client_id,
                number=index.number,
                currency=currency,
                issue_date=issue_date,
                due_date=due_date,
                line_items=lines,
                subtotal=totals.subtotal,
                tax_total=totals.tax_total,
                discount_total=totals.discount_total,
                total=totals.total,
                notes=notes,
                terms=terms,
            )
            self.save(invoice, index, quota, numbering)
            return invoice.id

        return self._retrying(command, account_id)

    def update_invoice(
        self, account_id: UUID, invoice_id: UUID, values: Mapping[str, Any], expected: Expected = None
    ) -> None:
        """Changes a DRAFT invoice; ``values`` are keyed as ``domain.invoice.EDITABLE``."""

        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            old_number = invoice.number
            if "client_id" in values and values["client_id"] != invoice.client_id:
                self._active_client(account_id, values["client_id"])
            invoice.revise(values)
            released: InvoiceNumber | None = None
            reserved: InvoiceNumber | None = None
            if number_key(invoice.number) != number_key(old_number):
                reserved = self._reserve_number(account_id, invoice.number, invoice.id)
                released = self._load(InvoiceNumber, InvoiceNumber.create_id(account_id, number_key(old_number)))
                released.release()
            self.save(invoice, reserved, released)

        self._retrying(command, account_id)

    def delete_invoice(self, account_id: UUID, invoice_id: UUID, expected: Expected = None) -> None:
        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            invoice.delete()
            index = self._load(InvoiceNumber, InvoiceNumber.create_id(account_id, number_key(invoice.number)))
            index.release()
            self.save(invoice, index)

        self._retrying(command, account_id)

    # --- the invoice's life --------------------------------------------------------------

    def send_invoice(self, account_id: UUID, invoice_id: UUID, sending: Sending, expected: Expected = None) -> None:
        """DRAFT -> SENT, or a re-send; with ``email`` the email follower delivers it."""
        recipients = [*sending.to, *sending.cc]
        for address in recipients:
            if not is_email(address):
                raise ValidationError(f"'{address}' is not a valid email address")
        message = check_text(sending.message, "message")
        token = secrets.token_urlsafe(24)  # 192 bits: the share link cannot be guessed

        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            if sending.email:
                if not limits_of(self.get_account(account_id).plan).email_sending:
                    raise PlanLimitReached("Plan limit reached: this plan has no email sending")
                if not sending.to and not self._load(Client, invoice.client_id).email:
                    raise ValidationError("The client has no email address; give one in 'to'")
            invoice.send(self.now(), Sending(sending.email, sending.to, sending.cc, message), token)
            self.save(invoice)

        self._retrying(command, account_id)

    def record_view(self, invoice_id: UUID) -> bool:
        """The share link was opened; the first time, SENT -> VIEWED. True if recorded."""

        def command() -> bool:
            invoice = self._load(Invoice, invoice_id)
            if invoice.is_deleted or invoice.viewed_at is not None or invoice.sent_at is None:
                return False
            recorded = invoice.view(self.now())
            self.save(invoice)
            return recorded

        return self._retrying(command)

    def record_payment(
        self,
        account_id: UUID,
        invoice_id: UUID,
        amount: Decimal,
        paid_on: date | None = None,
        method: str | None = None,
        reference: str | None = None,
        expected: Expected = None,
    ) -> UUID:
        payment_id = uuid4()
        method, reference = _short_text(method, "method"), _short_text(reference, "reference")

        def command() -> UUID:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            today = self.clock().date()  # the business date is the clock's; the recorded time is held
            invoice.record_payment(payment_id, amount, paid_on or today, method, reference, self.now())
            self.save(invoice)
            return payment_id

        return self._retrying(command, account_id)

    def reverse_payment(self, account_id: UUID, invoice_id: UUID, payment_id: UUID, expected: Expected = None) -> None:
        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            invoice.reverse_payment(payment_id, self.now())
            self.save(invoice)

        self._retrying(command, account_id)

    def void_invoice(
        self, account_id: UUID, invoice_id: UUID, reason: str | None = None, expected: Expected = None
    ) -> None:
        why = check_text(reason, "reason")

        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            invoice.void(self.now(), why)
            self.save(invoice)

        self._retrying(command, account_id)

    def mark_overdue(self, invoice_id: UUID) -> bool:
        """Records that a sent invoice with a balance is past its due date; False when it
        is not (paid, voided or changed meanwhile), so a sweep can race safely, or when its
        stored events do not verify, so one such invoice does not stop the sweep."""

        def command() -> bool:
            invoice = self._get(Invoice, invoice_id)
            # Overdue by the clock's own date (a clock stepped forward and back must not make
            # invoices overdue early); the time recorded is held like every recorded time.
            if invoice is None or invoice.is_deleted or not invoice.is_overdue_on(self.clock().date()):
                return False
            invoice.mark_overdue(self.now())
            self.save(invoice)
            return True

        try:
            return self._retrying(command)
        except Unverified:  # recorded and logged where it was found: the sweep goes on with the others
            return False

    def record_email_outcome(
        self,
        invoice_id: UUID,
        send: int,
        recipients: list[str],
        reply: str | None,
        attempt: int,
        retry_at: datetime | None,
        refused: str | None = None,
    ) -> None:
        """What the mail server said of one send: delivered to ``recipients`` (``reply``
        None; ``refused`` names any recipient it refused meanwhile) or failed."""

        def command() -> None:
            invoice = self._load(Invoice, invoice_id)
            if reply is None:
                invoice.email_delivered(send=send, at=self.now(), recipients=recipients, reply=refused)
            else:
                invoice.email_failed(send=send, at=self.now(), reply=reply, attempt=attempt, retry_at=retry_at)
            self.save(invoice)

        self._retrying(command)
