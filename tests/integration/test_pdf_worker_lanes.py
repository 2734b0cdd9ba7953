"""Which PDFs the worker renders, and when (followers/pdfs.py, storage/work_queue.py).

A render costs several times what creating the invoice does, so the worker renders at once
only what someone can want (an invoice sent; a new version of a PDF someone downloaded) and
every other new version when idle: newest first, at a person's pace (a token bucket on a
clock the test moves), keeping only the newest few queued; the rest render on first GET.
Real stores (SQLite, and PostgreSQL for the queue's SQL), real renders.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from followers.pdfs import PRERENDER_BURST, PRERENDER_PER_SECOND, PdfWorker
from gateway.services import Services
from storage.work_queue import WorkQueue

pytestmark = pytest.mark.both_backends("the work queue's upserts, leases and trims are SQL per dialect")


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def worker(services: Services, ticks: Ticks) -> PdfWorker:
    return PdfWorker(services.app, services.projector, services.pdfs, services.pdf_worker().queue, clock=ticks)


@pytest.fixture
def make_invoices(services: Services) -> Callable[[int], tuple[UUID, list[str]]]:
    account = services.execute(lambda: services.app.open_account("Seller", "business"))
    client = services.execute(lambda: services.app.create_client(account, {"name": "Acme"}))

    def create(number: int) -> str:
        draft = InvoiceDraft(client_id=client, line_items=[LineItemDraft(f"Work {number}", Decimal(1), Decimal(9))])
        return str(services.execute(lambda: services.app.create_invoice(account, draft)))

    def make(count: int) -> tuple[UUID, list[str]]:
        return account, [create(number) for number in range(count)]

    return make


def _stored(services: Services, invoices: list[str]) -> list[str]:
    return [invoice for invoice in invoices if services.pdfs.store.has(invoice)]


def test_a_bulk_of_new_invoices_costs_the_newest_few_renders_and_the_rest_render_on_demand(
    services: Services, worker: PdfWorker, make_invoices: Callable[[int], tuple[UUID, list[str]]]
) -> None:
    account, invoices = make_invoices(PRERENDER_BURST + 7)
    assert worker.run_once(budget_seconds=600) == PRERENDER_BURST
    assert _stored(services, invoices) == invoices[-PRERENDER_BURST:]  # what was made last
    assert worker.queue.queued() == 0  # the older ones were dropped from the queue, not kept for later
    assert worker.run_once(budget_seconds=600) == 0
    assert worker.position() == services.app.recorder.max_notification_id()
    found = services.pdfs.get(str(account), invoices[0])  # a GET renders it, once
    assert found is not None and found.content.startswith(b"%PDF")
    assert services.pdfs.rendered == PRERENDER_BURST + 1


def test_invoices_nobody_asked_for_are_rendered_at_a_persons_pace(
    services: Services, worker: PdfWorker, ticks: Ticks, make_invoices: Callable[[int], tuple[UUID, list[str]]]
) -> None:
    _, first = make_invoices(PRERENDER_BURST)
    assert worker.run_once(budget_seconds=600) == PRERENDER_BURST  # the bucket is spent
    _, later = make_invoices(3)
    assert worker.run_once(budget_seconds=600) == 0
    assert worker.queue.queued_for_idle() == 3  # waiting, not dropped
    ticks.now += 1 / PRERENDER_PER_SECOND
    assert worker.run_once(budget_seconds=600) == 1
    assert _stored(services, later) == later[-1:]  # newest first
    ticks.now += 3600  # an idle hour refills the bucket to its brim, no further
    assert worker.run_once(budget_seconds=600) == 2
    assert worker.queue.queued() == 0 and len(_stored(services, first + later)) == PRERENDER_BURST + 3


def test_a_sent_invoice_is_rendered_at_once_whatever_the_bucket_holds(
    services: Services, worker: PdfWorker, make_invoices: Callable[[int], tuple[UUID, list[str]]]
) -> None:
    account, invoices = make_invoices(PRERENDER_BURST + 2)
    assert worker.run_once(budget_seconds=600) == PRERENDER_BURST
    oldest = invoices[0]
    assert not services.pdfs.store.has(oldest)
    services.execute(lambda: services.app.send_invoice(account, UUID(oldest), Sending()))
    assert worker.run_once(budget_seconds=600) == 1  # its email and its share link need it
    assert services.pdfs.store.has(oldest) and worker.queue.queued() == 0


def test_a_new_version_of_a_downloaded_pdf_is_rendered_at_once(
    services: Services, worker: PdfWorker, make_invoices: Callable[[int], tuple[UUID, list[str]]]
) -> None:
    account, invoices = make_invoices(PRERENDER_BURST + 1)
    assert worker.run_once(budget_seconds=600) == PRERENDER_BURST
    oldest = invoices[0]
    assert services.pdfs.get(str(account), oldest) is not None  # someone downloaded it
    [before] = services.pdfs.store.index.keys(oldest)
    services.execute(lambda: services.app.update_invoice(account, UUID(oldest), {"notes": "Changed"}))
    assert worker.run_once(budget_seconds=600) == 1
    [after] = services.pdfs.store.index.keys(oldest)
    assert after != before


def test_the_queue_keeps_what_waits_for_idle_apart_from_what_is_due(services: Services) -> None:
    pdf = services.pdf_worker().queue
    at = datetime(2030, 1, 1)
    queue = WorkQueue(pdf.writer, pdf.reader, follower="lanes", clock=lambda: at)
    assert queue.advance(0, 1, {"due": 1}, later={"a": 2, "b": 3, "c": 4, "d": 5})
    assert [item.item for item in queue.lease("w", 10, 30)] == ["due"]  # the idle lane is not due
    [newest] = queue.lease_idle("w", 1, 30)
    assert newest.item == "d"
    queue.finish("w", newest)
    assert queue.queued_for_idle() == 3
    # "a" becomes due when an event says someone wants it; a later event keeps "due" due
    assert queue.advance(1, 2, {"a": 6}, later={"due": 7})
    assert sorted(item.item for item in queue.lease("x", 10, 30)) == ["a"]  # "due" is leased by "w" still
    assert queue.trim_idle(1) == 1  # of "b" and "c", the newest stays
    assert [item.item for item in queue.lease_idle("y", 10, 30)] == ["c"]


def test_an_item_in_backoff_keeps_its_time_when_queued_again(services: Services) -> None:
    """The email follower's retries: queuing its item again must not make it due early."""
    pdf = services.pdf_worker().queue
    at = datetime(2030, 1, 1)
    queue = WorkQueue(pdf.writer, pdf.reader, follower="backoff", clock=lambda: at)
    assert queue.advance(0, 1, {"mail": 1})
    [item] = queue.lease("w", 1, 30)
    queue.retry("w", item, at + timedelta(minutes=5))
    assert queue.advance(1, 2, {"mail": 2})
    assert queue.lease("w", 1, 30) == []
    assert queue.queued_for_idle() == 0 and queue.queued() == 1
