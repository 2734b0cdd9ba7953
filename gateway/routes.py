"""REST endpoints: HTTP in, one command or query, HTTP out. No business rules here."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import ValidationError
from gateway import bodies, params, render
from gateway.downloads import pdf_response
from gateway.handling import account_of, detail_response, found, json_body, path_uuid, services_of, write
from gateway.history_routes import past_detail_response, past_pdf_response
from gateway.jsonio import JSONResponse

# --- clients -------------------------------------------------------------------------


async def clients_collection(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    if request.method == "POST":
        values = bodies.client_values(await json_body(request), creating=True)
        client_id = await write(request, lambda: services.app.create_client(account, values))
        view = await run_in_threadpool(services.read.client, str(account), str(client_id))
        return JSONResponse({"data": render.client(found(view, "Client not found"))}, status_code=201)
    query = params.list_params(request.query_params)
    result = await run_in_threadpool(services.read.clients, str(account), query.page, query.limit, query.search)
    return JSONResponse(render.page(result, render.client))


async def client_item(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    client_id = path_uuid(request, "client_id", "Client not found")
    if request.method in ("PUT", "PATCH"):
        values = bodies.client_values(await json_body(request), creating=False)
        await write(request, lambda: services.app.update_client(account, client_id, values))
    elif request.method == "DELETE":
        await write(request, lambda: services.app.deactivate_client(account, client_id))
        return Response(status_code=204)
    view = await run_in_threadpool(services.read.client, str(account), str(client_id))
    return JSONResponse({"data": render.client(found(view, "Client not found"))})


# --- invoices ------------------------------------------------------------------------


async def invoices_collection(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    if request.method == "POST":
        draft = bodies.invoice_draft(await json_body(request))
        invoice_id = await write(request, lambda: services.app.create_invoice(account, draft))
        view = await run_in_threadpool(services.read.invoice, str(account), str(invoice_id))
        return JSONResponse({"data": render.invoice_brief(found(view, "Invoice not found"))}, status_code=201)
    query = params.list_params(request.query_params)
    status = params.status_param(request.query_params)
    client_id = params.client_id_param(request.query_params)
    result = await run_in_threadpool(
        services.read.invoices, str(account), query.page, query.limit, query.search, client_id, status
    )
    return JSONResponse(render.page(result, render.invoice_summary))


async def invoice_item(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    if request.method in ("PUT", "PATCH"):
        body = await json_body(request)
        changes = bodies.invoice_changes(body)
        if "status" in body:  # sent back as read it is ignored; a new status is a command
            current = found(
                await run_in_threadpool(services.read.invoice, str(account), str(invoice_id)), "Invoice not found"
            )
            if body["status"] != current.status:
                raise ValidationError(
                    "Field 'status' cannot be set; use POST /api/v1/invoices/{id}/send, /payments or /void"
                )
        await write(request, lambda: services.app.update_invoice(account, invoice_id, changes))
    elif request.method == "DELETE":
        await write(request, lambda: services.app.delete_invoice(account, invoice_id))
        await run_in_threadpool(services.pdfs.discard, str(invoice_id))
        return Response(status_code=204)
    if request.method == "GET":
        past = params.past_params(request.query_params)
        if past.given:
            return await past_detail_response(request, account, invoice_id, past)
        return await detail_response(request, account, invoice_id)
    view = found(await run_in_threadpool(services.read.invoice, str(account), str(invoice_id)), "Invoice not found")
    return JSONResponse({"data": render.invoice_brief(view)})


async def invoice_pdf(request: Request) -> Response:
    services, account = services_of(request), account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    past = params.past_params(request.query_params)
    if past.given:
        return await past_pdf_response(request, account, invoice_id, past)
    pdf = found(await run_in_threadpool(services.pdfs.get, str(account), str(invoice_id)), "Invoice not found")
    return pdf_response(request, pdf)


ROUTES = [
    Route("/api/v1/clients", clients_collection, methods=["GET", "POST"]),
    Route("/api/v1/clients/{client_id}", client_item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route("/api/v1/invoices", invoices_collection, methods=["GET", "POST"]),
    Route("/api/v1/invoices/{invoice_id}", invoice_item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route("/api/v1/invoices/{invoice_id}/pdf", invoice_pdf, methods=["GET"]),
]
