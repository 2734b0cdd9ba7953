"""How the REST door words the answers of its keyed writes, for ``gateway.http.idempotency``
to make them again from a request's events (``gateway.http.idempotency_recovery``): the
same bodies the routes answer with."""

from gateway.http.idempotency_recovery import Answers
from gateway.rest import render
from gateway.rest.contract import responses
from usecases.lifecycle import PaymentAnswer
from usecases.views import AccountView, ClientView, InvoiceDetail


def _client(view: ClientView) -> responses.ClientData:
    return responses.ClientData(data=render.client(view))


def _invoice(
    view: InvoiceDetail, public_url: str, client: ClientView | None, account: AccountView | None
) -> responses.InvoiceData:
    return responses.InvoiceData(data=render.invoice_detail(view, public_url, client, account))


def _payment(answer: PaymentAnswer) -> responses.PaymentData:
    return responses.PaymentData(data=render.payment_answer(answer))


ANSWERS = Answers(client=_client, invoice=_invoice, payment=_payment)
