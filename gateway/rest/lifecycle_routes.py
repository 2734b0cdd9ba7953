"""REST endpoints of an invoice's life: send, void, payments. HTTP in, one use case, HTTP out.
Each write takes If-Match (the invoice's ETag) and answers with the invoice's new ETag."""

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http import etags
from gateway.http.jsonio import JSONResponse
from gateway.http.methods import reads
from gateway.rest import params, render
from gateway.rest.contract import requests, responses
from gateway.rest.contract.decoding import decode
from gateway.rest.handling import account_of, call, json_body, path_uuid, usecases_of
from gateway.rest.routes import invoice_tag, invoice_written
from usecases.lifecycle import PaymentAnswer
from usecases.views import InvoiceDetail


async def _detail(request: Request, view: InvoiceDetail) -> Response:
    """The invoice's detail as GET now answers it, with its ETag."""
    return await invoice_written(request, account_of(request), UUID(view.id))


async def _tagged(request: Request, response: Response, invoice_id: UUID) -> Response:
    """The answer with the invoice's ETag as it now stands, to send as the next If-Match."""
    response.headers["ETag"] = await invoice_tag(request, account_of(request), invoice_id)
    return response


async def send_invoice(request: Request) -> Response:
    lifecycle, account = usecases_of(request).lifecycle, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    params.none(request.query_params)
    sending = decode(await json_body(request, optional=True), requests.SendInput).sending()
    return await _detail(request, await call(lifecycle.send, account, invoice_id, sending, etags.expected(request)))


async def void_invoice(request: Request) -> Response:
    lifecycle, account = usecases_of(request).lifecycle, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    params.none(request.query_params)
    reason = decode(await json_body(request, optional=True), requests.VoidInput).reason
    return await _detail(request, await call(lifecycle.void, account, invoice_id, reason, etags.expected(request)))


async def payments_collection(request: Request) -> Response:
    lifecycle, account = usecases_of(request).lifecycle, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    params.none(request.query_params)
    if not reads(request):  # POST
        given = decode(await json_body(request), requests.PaymentCreate).input()
        answer = await call(lifecycle.record_payment, account, invoice_id, given, etags.expected(request))
        return await _tagged(request, _payment(answer, 201), invoice_id)
    listed = await call(lifecycle.payments, account, invoice_id)
    return JSONResponse(responses.PaymentList(data=[render.payment(view) for view in listed]))


async def payment_item(request: Request) -> Response:
    """DELETE records a reversal of a mistaken payment; the payment stays on record."""
    lifecycle, account = usecases_of(request).lifecycle, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    params.none(request.query_params)
    payment_id = path_uuid(request, "payment_id", "Payment not found")
    answer = await call(lifecycle.reverse_payment, account, invoice_id, payment_id, etags.expected(request))
    return await _tagged(request, _payment(answer, 200), invoice_id)


def _payment(answer: PaymentAnswer, status: int) -> Response:
    """The payment, with where its invoice now stands."""
    return JSONResponse(responses.PaymentData(data=render.payment_answer(answer)), status_code=status)


ROUTES = [
    Route("/api/v1/invoices/{invoice_id}/send", send_invoice, methods=["POST"]),
    Route("/api/v1/invoices/{invoice_id}/void", void_invoice, methods=["POST"]),
    Route("/api/v1/invoices/{invoice_id}/payments", payments_collection, methods=["GET", "POST"]),
    Route("/api/v1/invoices/{invoice_id}/payments/{payment_id}", payment_item, methods=["DELETE"]),
]
