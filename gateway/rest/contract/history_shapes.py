"""History and feed entries as response Structs, made from ``usecases.change_shapes``: one
Struct per event type, tagged by its ``type`` (``discriminator.mapping`` in the document).

A record's history is one kind's entries (``InvoiceHistoryEntry``: a union discriminated by
``type``). The feed mixes kinds, whose words overlap (``created``), so a feed entry also
carries ``event``, the kind and the word (``invoice.created``), which discriminates it.
"""

from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

from gateway.rest.contract import fields as f
from gateway.rest.contract import responses as r
from usecases.change_shapes import SHAPES, ChangeShape, changes_type, previous_type, shapes_of

Version = Annotated[int, Meta(ge=1, description="The record's events counted from 1.")]
Position = Annotated[int, Meta(ge=1, description="The event's commit position; only grows.")]


def _entry(shape: ChangeShape) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        shape.name + "Entry",
        [
            ("version", Version),
            ("occurred_at", f.Timestamp),
            ("actor", r.Actor),
            ("changes", Annotated[changes_type(shape), Meta(description="Fields in the detail's wire names.")]),
            ("previous", Annotated[previous_type(shape), Meta(description="The changed fields' old values.")]),
        ],
        bases=(r.Shape,),
        module=__name__,
        namespace={"__doc__": shape.description},
        tag_field="type",
        tag=shape.type,
        rename="camel",
        kw_only=True,
    )


def feed_event(resource: str, word: str) -> str:
    """A feed entry's ``event``: ``invoice.created``."""
    return f"{resource}.{word}"


def _feed_entry(shape: ChangeShape) -> type[msgspec.Struct]:
    return msgspec.defstruct(
        shape.name + "FeedEntry",
        [
            ("position", Position),
            ("resource", r.Resource),
            ("version", Version),
            ("type", Literal[shape.type]),
            ("occurred_at", f.Timestamp),
            ("actor", r.Actor),
            ("changes", changes_type(shape)),
            ("previous", previous_type(shape)),
        ],
        bases=(r.Shape,),
        module=__name__,
        namespace={"__doc__": shape.description},
        tag_field="event",
        tag=feed_event(shape.resource, shape.type),
        rename="camel",
        kw_only=True,
    )


def _union(kinds: tuple[type[msgspec.Struct], ...]) -> Any:
    return Union[kinds]  # noqa: UP007  # built at run time: a | b needs them written out


InvoiceEntry = _union(tuple(_entry(shape) for shape in shapes_of("invoice")))
ClientEntry = _union(tuple(_entry(shape) for shape in shapes_of("client")))
FEED_ENTRY = _union(tuple(_feed_entry(shape) for shape in SHAPES))


class InvoiceHistory(r.Shape):
    data: list[InvoiceEntry]  # type: ignore[valid-type]


class ClientHistory(r.Shape):
    data: list[ClientEntry]  # type: ignore[valid-type]


class Feed(r.Shape):
    data: list[FEED_ENTRY]  # type: ignore[valid-type]
    next: Annotated[int, Meta(ge=0, description="The `after` of the following page.")]


HISTORIES: dict[str, type[InvoiceHistory] | type[ClientHistory]] = {
    "invoice": InvoiceHistory,
    "client": ClientHistory,
}
