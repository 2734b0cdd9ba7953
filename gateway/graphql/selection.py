"""What a page's rows select, read from the query before the page is read, so that the
page and the relations its rows show are read together: one use-case call, one
connection, one snapshot, instead of the page and then one loader (a thread hop, a
connection and a query) per relation.

Only what the document names is looked at (fields, fragments, inline fragments); a field
skipped by ``@skip``/``@include`` still counts, which at worst reads a relation nobody
shows. A relation not read ahead is loaded as before, by the request's loaders."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


@dataclass(frozen=True)
class Wanted:
    """What the rows of a page select beyond their summary."""

    details: bool = False  # a detail field or the lines
    clients: bool = False  # the client (or what needs it)


NOTHING = Wanted()


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, through fragments and inline fragments."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            yield from _fields(selection.selections)


def _rows(page: SelectedField) -> Iterator[SelectedField]:
    """The fields selected of a page's rows: under ``data`` and ``edges { node }``."""
    for found in _fields(page.selections):
        if found.name == "data":
            yield from _fields(found.selections)
        elif found.name == "edges":
            for edge in _fields(found.selections):
                if edge.name == "node":
                    yield from _fields(edge.selections)


def wanted(info: Info, detail_names: frozenset[str], client_names: frozenset[str]) -> Wanted:
    """Whether the rows of the page this field answers select a field of ``detail_names``
    or of ``client_names`` (GraphQL names)."""
    names = {found.name for page in _fields(info.selected_fields) for found in _rows(page)}
    if not names:
        return NOTHING
    return Wanted(details=bool(names & detail_names), clients=bool(names & client_names))
