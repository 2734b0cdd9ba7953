"""REST endpoints of an invoice's life: send, void, payments. HTTP in, one command, HTTP out."""

from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import bodies, render
from gateway.handling import account_of, detail_response, found, json_body, path_uuid, services_of, write
from gateway.jsonio import JSONResponse
from projections.views import InvoiceDetail


async def _detail(request: Request, account: UUID, invoice_id: UUID) -> InvoiceDetail:
    view = await run_in_threadpool(services_of(request).read.invoice, str(account), str(invoice_id))
    return found(view, "Invoice not found")


async def send_invoice(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    sending = bodies.sending(await json_body(request, optional=True))
    await write(request, lambda: services.app.send_invoice(account, invoice_id, sending))
    return await detail_response(request, account, invoice_id)


async def void_invoice(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    reason = bodies.void_reason(await json_body(request, optional=True))
    await write(request, lambda: services.app.void_invoice(account, invoice_id, reason))
    return await detail_response(request, account, invoice_id)


async def payments_collection(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    if request.method == "POST":
        values = bodies.payment(await json_body(request))
        payment_id = await write(request, lambda: services.app.record_payment(account, invoice_id, **values))
        return await _payment_answer(request, account, invoice_id, str(payment_id), 201)
    listed = await run_in_threadpool(services.read.payments, str(account), str(invoice_id))
    return JSONResponse({"data": [render.payment(view) for view in found(listed, "Invoice not found")]})


async def payment_item(request: Request) -> Response:
    """DELETE records a reversal of a mistaken payment; the payment stays on record."""
    services, account = services_of(request), account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    payment_id = path_uuid(request, "payment_id", "Payment not found")
    await write(request, lambda: services.app.reverse_payment(account, invoice_id, payment_id))
    return await _payment_answer(request, account, invoice_id, str(payment_id), 200)


async def _payment_answer(request: Request, account: UUID, invoice_id: UUID, payment_id: str, status: int) -> Response:
    """The payment, with where its invoice now stands."""
    services = services_of(request)
    listed = found(await run_in_threadpool(services.read.payments, str(account), str(invoice_id)), "Invoice not found")
    payment = found(next((p for p in listed if p.id == payment_id), None), "Payment not found")
    invoice = await _detail(request, account, invoice_id)
    body = {
        **render.payment(payment),
        "invoice": {**render.balance(invoice), "paidAt": render.timestamp(invoice.paid_at)},
    }
    return JSONResponse({"data": body}, status_code=status)


ROUTES = [
    Route("/api/v1/invoices/{invoice_id}/send", send_invoice, methods=["POST"]),
    Route("/api/v1/invoices/{invoice_id}/void", void_invoice, methods=["POST"]),
    Route("/api/v1/invoices/{invoice_id}/payments", payments_collection, methods=["GET", "POST"]),
    Route("/api/v1/invoices/{invoice_id}/payments/{payment_id}", payment_item, methods=["DELETE"]),
]
