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

from gateway.http.negotiation import qualities

GRAPHQL_RESPONSE = "application/graphql-response+json"
CONTENT_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"
JSON = "application/json"


def wants_graphql_response(accept: str | None) -> bool:
    """Whether the answer is to be ``application/graphql-response+json``."""
    if not accept:
        return False
    weights = qualities(accept)
    wanted = weights.get(GRAPHQL_RESPONSE, 0.0)
    return wanted > 0 and wanted >= weights.get(JSON, 0.0)


def is_request_error(data: object, errors: Sequence[GraphQLError] | None) -> bool:
    """A result of a request that never ran: no data, and errors of no field (parse,
    validation, variable coercion, the limits, the transport's rules)."""
    return data is None and bool(errors) and all(error.path is None for error in errors or ())
