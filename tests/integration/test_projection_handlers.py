"""The projection's handlers: one per event class, each typed with fields its event has.

eventsourcing makes the event classes as the aggregates are defined, so no type checker
holds a handler's declared event (a protocol in projections/handlers/events.py) to the
class it is registered for: this does, field by field, with the fields' types."""

import inspect
import typing
from typing import Any

from domain.account import Account
from domain.client import Client
from domain.invoice import Invoice
from projections.handlers import HANDLERS

RECORDED = {"originator_id", "originator_version", "timestamp"}  # every event has them (the id's type is generic)


def _events_of(aggregate: type[Any]) -> set[type[Any]]:
    base = aggregate.__mro__[1]
    return {
        value
        for name, value in vars(aggregate).items()
        if inspect.isclass(value) and issubclass(value, base.Event) and name not in ("Event", "Created")
    }


def _fits(declared: Any, actual: Any) -> bool:
    """Whether a field of type ``actual`` is what a handler declared (``Any`` is anything)."""
    if declared is Any or declared == actual:
        return True
    args, actual_args = typing.get_args(declared), typing.get_args(actual)
    return (
        typing.get_origin(declared) is typing.get_origin(actual) is not None
        and len(args) == len(actual_args)
        and all(_fits(a, b) for a, b in zip(args, actual_args, strict=True))
    )


def test_each_handler_reads_only_fields_its_event_class_has_with_their_types() -> None:
    assert HANDLERS.by_class
    for event_class, registered in HANDLERS.by_class.items():
        shape = typing.get_type_hints(registered.handle)["e"]
        declared = typing.get_type_hints(shape)
        has = typing.get_type_hints(event_class)
        for field, kind in declared.items():
            assert field in has, f"{registered.handle.__name__} reads {field}, which {event_class.__qualname__} lacks"
            if field not in RECORDED:
                assert _fits(kind, has[field]), f"{event_class.__qualname__}.{field} is {has[field]}, not {kind}"


def test_every_event_that_makes_rows_has_its_handler_and_no_other_does() -> None:
    handled = {event_class.__qualname__ for event_class in HANDLERS.by_class}
    assert handled == {
        "Account.AccountOpened",
        "Account.PlanChanged",
        "Account.AccountUpdated",
        "Account.ApiKeyIssued",
        "Account.ApiKeyRevoked",
        "Client.ClientCreated",
        "Client.ClientUpdated",
        "Client.ClientDeactivated",
        "Client.ClientReactivated",
        "Invoice.InvoiceCreated",
        "Invoice.InvoiceUpdated",
        "Invoice.InvoiceDeleted",
        "Invoice.InvoiceSent",
        "Invoice.InvoiceViewed",
        "Invoice.InvoiceMarkedOverdue",
        "Invoice.InvoiceVoided",
        "Invoice.PaymentRecorded",
        "Invoice.PaymentReversed",
        "Invoice.EmailDelivered",
        "Invoice.EmailFailed",
    }
    every = {c.__qualname__ for aggregate in (Account, Client, Invoice) for c in _events_of(aggregate)}
    assert handled <= every
    assert every - handled == {"Account.OwnerAdded"}  # an owner is no read-model row (storage/owners.py)


def test_only_the_handlers_that_add_rows_let_new_rows_wait() -> None:
    adding = {c.__qualname__ for c, registered in HANDLERS.by_class.items() if registered.adds_only}
    assert adding == {"Client.ClientCreated", "Invoice.InvoiceCreated"}
