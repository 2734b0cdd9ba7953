"""The arguments every list takes, described once: a page by number (``page``, ``limit``,
as REST), or a Relay-style slice after a cursor (``first``, ``after``: the Cursor
Connections Specification's forward pagination), which neither repeats nor skips a row
while others write."""

from typing import Annotated

import strawberry

from domain.errors import ValidationError
from usecases.inputs import MAX_LIMIT

DEFAULT_LIMIT = 20

PAGE = Annotated[int, strawberry.argument(description="The page, from 1 (not with `after`).")]
LIMIT = Annotated[int, strawberry.argument(description=f"Rows per page, 1 to {MAX_LIMIT} (or give `first`).")]
SEARCH = Annotated[
    str | None,
    strawberry.argument(description="Rows whose name, email (or invoice number) contain this, in any case."),
]
FIRST = Annotated[
    int | None,
    strawberry.argument(description=f"Rows per page, 1 to {MAX_LIMIT}: the connection's word for `limit`."),
]
AFTER = Annotated[
    str | None,
    strawberry.argument(
        description="A cursor (`pageInfo.endCursor`, an edge's `cursor`, or `nextCursor`): the rows after it."
    ),
]


def paged(page: int, limit: int, first: int | None, after: str | None) -> tuple[int, str | None]:
    """The page size (``first`` when given, else ``limit``) and the cursor; the rest of the
    checks are the use cases' own (``ListQuery.checked``), as through REST."""
    if first is None:
        return limit, after
    if limit != DEFAULT_LIMIT:
        raise ValidationError("Give argument 'first' or 'limit', not both")
    if not 1 <= first <= MAX_LIMIT:
        raise ValidationError(f"Argument 'first' must be an integer from 1 to {MAX_LIMIT}")
    return first, after
