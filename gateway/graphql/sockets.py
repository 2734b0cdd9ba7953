"""The GraphQL websocket: graphql-transport-ws only, its key checked while it lives.

A socket's key is checked at ``connection_init``, again on every ``subscribe`` and again
before every event is sent: once the key is revoked (the read model says so, as it does
for REST's 401), the socket is closed with 4403 and nothing more is sent on it. A key
checked only once would let a socket opened before the revocation read the account's
whole history afterwards.

At most :data:`MAX_SUBSCRIPTIONS` subscriptions run at once on one socket; one more is
refused with an ``error`` message carrying ``extensions.code`` ``RATE_LIMITED``.

The legacy ``graphql-ws`` subprotocol (Apollo's ``subscriptions-transport-ws``) is not
offered: its reference client has been unmaintained since 2021, it ignores a message it
cannot read instead of closing, and has no close codes to say why a socket ends; a client
asking only for it is closed with 4406 (strawberry's "Subprotocol not acceptable").
"""

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLFormattedError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, Message, SubscribeMessage

from gateway.graphql.context import Context
from gateway.http import codes

PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
MAX_SUBSCRIPTIONS = 100
REVOKED_CLOSE = 4403  # graphql-transport-ws's Forbidden, as at connection_init
REVOKED_REASON = "Invalid or revoked API key"
LIMIT_MESSAGE = f"Subscription limit reached: at most {MAX_SUBSCRIPTIONS} at once on one socket"

# key id -> whether it is still live (the door reads the read model)
KeyCheck = Callable[[str], Awaitable[bool]]


def limit_error() -> GraphQLFormattedError:
    """The one error of a subscription refused past the limit."""
    return {"message": LIMIT_MESSAGE, "extensions": {"code": "RATE_LIMITED", "reason": codes.RATE_LIMITED}}


class CheckedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler, with the key checked on each subscribe
    and before each event, and the subscription limit's refusal coded."""

    closed_for_key = False

    def _check(self) -> KeyCheck:
        view: Any = self.view  # the door (gateway.graphql.app.GraphQLDoor)
        check: KeyCheck = view.key_is_live
        return check

    async def _live(self) -> bool:
        """False (and the socket closed, 4403) once the socket's key is revoked."""
        if self.closed_for_key:
            return False
        key_id = self.context.key_id
        if key_id is None or await self._check()(key_id):
            return True
        self.closed_for_key = True
        await self.websocket.close(code=REVOKED_CLOSE, reason=REVOKED_REASON)
        return False

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self._live():
            return
        full = len(self.operations) >= MAX_SUBSCRIPTIONS
        if self.connection_acknowledged and message["id"] not in self.operations and full:
            refusal: ErrorMessage = {"id": message["id"], "type": "error", "payload": [limit_error()]}
            await self.send_message(refusal)
            return
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next" and not await self._live():
            raise _OperationStreamClosed  # ends the operation's task quietly: its socket is closed
        if self.closed_for_key:
            return  # nothing more goes out on a socket closed for its key
        await super().send_message(message)
