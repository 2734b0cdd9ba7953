"""Which operations each transport carries, checked with the document's validation.

Queries and mutations go over HTTP, where the guard authenticates each request, charges
the key's budget and names the key as the actor of what it writes. The websocket carries
subscriptions only: its key was checked once, at ``connection_init``, so a mutation sent
over it would bypass all three. A subscription sent over HTTP cannot stream, and a
document of several operations must say which one to run (as the GraphQL spec requires).
"""

import functools
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, ValidationRule
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension


def _refusal(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST"})


class OperationsFitTransport(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, self._rule())
        yield

    def _rule(self) -> type[ValidationRule]:
        execution = self.execution_context
        request = getattr(execution.context, "request", None)
        # what the request named: strawberry's `operation_name` falls back to the first
        # operation's name, which would hide a document of several unnamed choices
        named: str | None = getattr(execution, "_provided_operation_name", None)
        return _fits(isinstance(request, WebSocket), named)


@functools.lru_cache(maxsize=256)
def _fits(over_socket: bool, named: str | None) -> type[ValidationRule]:
    """The rule for one transport and operation name: the same class for the same two, so
    a query text's validation is remembered across requests (``gateway.graphql.limits``)."""

    class FitsTransport(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1 and not named:
                self.report_error(_refusal("The document holds several operations: name one in 'operationName'"))

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            name = node.name.value if node.name else None
            if named and name != named:
                return  # not the operation that runs
            if over_socket and node.operation is not OperationType.SUBSCRIPTION:
                self.report_error(
                    _refusal("Only subscriptions go over the websocket; send queries and mutations over HTTP")
                )
            elif not over_socket and node.operation is OperationType.SUBSCRIPTION:
                self.report_error(
                    _refusal("Subscriptions need the websocket at /graphql (protocol graphql-transport-ws)")
                )

    return FitsTransport
