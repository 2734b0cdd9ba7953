"""The media type of a GraphQL answer over HTTP, as the GraphQL-over-HTTP specification
(draft, §"Body" and §"application/graphql-response+json") says it.

A client that accepts ``application/graphql-response+json`` (listed in ``Accept`` at a
quality at least that of ``application/json``) gets that media type, and then HTTP's
status says whether the request was valid: a document that does not parse or validate,
or variables that do not fit, is a 4xx whose body has no ``data`` key (the request never
ran), while an operation that ran answers 200 whatever its field errors. A client that
accepts only ``application/json`` (or anything, ``*/*``, or says nothing) keeps the
legacy answer: ``application/json``, 200 for any well-formed GraphQL request.
"""

from collections.abc import Sequence

from graphql import GraphQLError

GRAPHQL_RESPONSE = "application/graphql-response+json"
CONTENT_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"
JSON = "application/json"


def _qualities(accept: str) -> dict[str, float]:
    """Each media range of an ``Accept`` header and its weight (RFC 9110 §12.5.1)."""
    found: dict[str, float] = {}
    for part in accept.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if name:
            found[name.lower()] = max(weight, found.get(name.lower(), 0.0))
    return found


def wants_graphql_response(accept: str | None) -> bool:
    """Whether the answer is to be ``application/graphql-response+json``."""
    if not accept:
        return False
    weights = _qualities(accept)
    wanted = weights.get(GRAPHQL_RESPONSE, 0.0)
    return wanted > 0 and wanted >= weights.get(JSON, 0.0)


def is_request_error(data: object, errors: Sequence[GraphQLError] | None) -> bool:
    """A result of a request that never ran: no data, and errors of no field (parse,
    validation, variable coercion, the limits, the transport's rules)."""
    return data is None and bool(errors) and all(error.path is None for error in errors or ())
