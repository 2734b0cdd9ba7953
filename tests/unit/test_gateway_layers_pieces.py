"""The pieces moved so each layer of gateway imports only those below it (issue 25): the
settings name the SQLite factory by its topic, the doors read a timestamp alike, and a
PDF's file name is one rule for downloads and email attachments."""

from datetime import UTC, datetime

from eventsourcing.utils import resolve_topic

from database.event_transactions import SharedSQLiteFactory
from gateway.settings import SQLITE_FACTORY_TOPIC
from pdf.filenames import content_disposition
from usecases.wire_values import moment, timestamp_problem


def test_the_settings_name_the_shared_sqlite_factory() -> None:
    """The event store's SQLite persistence, sized and able to share a command's transaction."""
    assert resolve_topic(SQLITE_FACTORY_TOPIC) is SharedSQLiteFactory


def test_a_timestamp_reads_alike_for_both_doors() -> None:
    assert moment("2026-03-31T23:59:59Z") == datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert moment("2026-03-31T23:59:59") == datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert moment("2026-03-31") is None  # a bare date: which moment of it?
    assert moment("yesterdayT") is None
    assert moment("0001-01-01T00:00:00+01:00") == datetime.min.replace(tzinfo=UTC)
    assert timestamp_problem("asOf") == "Parameter 'asOf' must be an ISO 8601 timestamp such as 2026-03-31T23:59:59Z"


def test_a_pdf_name_is_plain_or_has_its_exact_form_beside() -> None:
    assert content_disposition("INV-0042.pdf") == 'attachment; filename="INV-0042.pdf"'
    assert content_disposition("Faktura ó/1.pdf") == (
        "attachment; filename=\"Faktura o_1.pdf\"; filename*=UTF-8''Faktura%20%C3%B3%2F1.pdf"
    )
