"""The dashboard at ``/dashboard``: where an account's owners sign in, get API keys and run
their invoicing in a browser, in English or Spanish.

It is a third door onto the same use cases as REST and GraphQL (``usecases``): a page
parses its form into a use case's typed input, calls it as the signed-in owner (the
ledger records ``{"type": "owner", "id", "name": <email>}``), and renders the answer or the
refusal, told in the reader's language. Nothing of the business is decided here: which
actions an invoice offers comes from the domain's lifecycle, and the form's running totals
are priced by the domain's money rules on the server.

Pages are server-rendered (Jinja, autoescaped) and work without JavaScript; the one small
script (``static/dashboard.js``) adds and removes lines in place, prices the draft as you
type, and copies a new key. No CDN, no build: every byte is in this package. See
``security`` for cookies, CSRF and headers; ``web`` for what every request goes through;
``error_pages`` for what is shown when something goes wrong.
"""

from eventsourcing.persistence import ConnectionUnavailableError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from domain.errors import DomainError
from gateway.dashboard import auth_pages, client_pages, invoice_detail, invoice_pages, key_pages, settings_pages
from gateway.dashboard.error_pages import (
    ServerErrorPages,
    busy_page,
    domain_error_page,
    http_exception_page,
    http_problem_page,
)
from gateway.dashboard.rendering import static_file
from gateway.dashboard.web import SIGN_IN_RATE, Dashboard
from gateway.http.problems import HttpProblem
from gateway.http.ratelimit import BudgetsUnavailable, budgets
from gateway.services import Services

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]

ROUTES = [
    Route("/", auth_pages.home, methods=GET),
    Route("/sign-in", auth_pages.SIGN_IN, methods=BOTH),
    Route("/sign-out", auth_pages.SIGN_OUT, methods=POST),
    Route("/welcome/{token}", auth_pages.WELCOME, methods=BOTH),
    Route("/language", auth_pages.LANGUAGE, methods=POST),
    Route("/keys", key_pages.KEYS, methods=BOTH),
    Route("/keys/{key_id}/revoke", key_pages.REVOKE, methods=POST),
    Route("/clients", client_pages.CLIENTS, methods=GET),
    Route("/clients/new", client_pages.NEW, methods=BOTH),
    Route("/clients/{client_id}", client_pages.CLIENT, methods=BOTH),
    Route("/clients/{client_id}/deactivate", client_pages.DEACTIVATE, methods=POST),
    Route("/clients/{client_id}/reactivate", client_pages.REACTIVATE, methods=POST),
    Route("/invoices", invoice_pages.INVOICES, methods=GET),
    Route("/invoices/new", invoice_pages.NEW, methods=BOTH),
    Route("/invoices/price", invoice_pages.PRICE, methods=POST),
    Route("/invoices/{invoice_id}", invoice_detail.INVOICE, methods=GET),
    Route("/invoices/{invoice_id}/edit", invoice_pages.EDIT, methods=BOTH),
    Route("/invoices/{invoice_id}/pdf", invoice_pages.PDF, methods=GET),
    Route("/invoices/{invoice_id}/send", invoice_detail.SEND, methods=POST),
    Route("/invoices/{invoice_id}/payments", invoice_detail.PAY, methods=POST),
    Route("/invoices/{invoice_id}/payments/{payment_id}/reverse", invoice_detail.REVERSE, methods=POST),
    Route("/invoices/{invoice_id}/void", invoice_detail.VOID, methods=POST),
    Route("/invoices/{invoice_id}/delete", invoice_detail.DELETE, methods=POST),
    Route("/settings", settings_pages.SETTINGS, methods=BOTH),
    Route("/settings/export", settings_pages.EXPORT, methods=GET),
    Route("/settings/password", auth_pages.PASSWORD, methods=POST),
    Route("/static/{name}", static_file, methods=GET),
]


def dashboard_app(services: Services) -> Starlette:
    """The dashboard, to mount at ``/dashboard`` (its own error pages: HTML, not JSON)."""
    app = Starlette(
        routes=ROUTES,
        exception_handlers={
            DomainError: domain_error_page,
            HttpProblem: http_problem_page,
            HTTPException: http_exception_page,
            BudgetsUnavailable: busy_page,
            ConnectionUnavailableError: busy_page,
            PoolTimeout: busy_page,
        },
        middleware=[Middleware(ServerErrorPages)],  # whatever no handler maps: logged, and a page
    )
    limiter = budgets(SIGN_IN_RATE, services.settings)  # in Redis when configured: every process counts
    app.state.dashboard = Dashboard(services, limiter)
    return app
