"""Pages for whatever goes wrong on the dashboard, in the reader's language: a refusal (the
use case's or the request's own), an address or method nothing answers, a busy service, and
any error no handler maps (logged once, shown as a page that tells nothing of it)."""

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import DomainError
from gateway.dashboard.security import PATH, Keys
from gateway.dashboard.web import View, anonymous_locale, dashboard_of, open_view
from gateway.http.problems import HttpProblem
from translations import N_

log = logging.getLogger("cleverinvo")

HTTP_STATUS_TEXTS = {  # Starlette's own refusals (no route takes that method, ...), told in the reader's words
    405: N_("This address does not take that kind of request."),
    400: N_("This request could not be handled."),
}


async def _view_for_error(request: Request) -> View:
    found = getattr(request.state, "dashboard_view", None)
    if isinstance(found, View):
        return found
    try:
        return await open_view(request)
    except Exception:  # the error page must not fail in turn
        return View(request, dashboard_of(request), Keys("unused"), anonymous_locale(request))


async def domain_error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    view = await _view_for_error(request)
    status = view.status_of(exc)
    title = view.gettext("Not found") if status == 404 else view.gettext("That did not work")
    return view.message(status, title, view.explain(exc).text)


async def http_problem_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    view = await _view_for_error(request)
    return view.message(exc.status, view.gettext("That did not work"), view.explain(exc).text)


async def http_exception_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    view = await _view_for_error(request)
    if exc.status_code == 404:
        return view.message(404, view.gettext("Not found"), view.gettext("There is nothing at this address."))
    text = HTTP_STATUS_TEXTS.get(exc.status_code, HTTP_STATUS_TEXTS[400])
    response = view.message(exc.status_code, view.gettext("That did not work"), view.gettext(text))
    response.headers.update(exc.headers or {})  # a 405's Allow
    return response


async def busy_page(request: Request, exc: Exception) -> Response:
    """The rate-limit counters cannot be reached, or no database connection was free in
    time: nothing was done (as the API's 503, ``gateway.http.errors``)."""
    log.warning("Dashboard busy on %s %s: %s", request.method, PATH + _route(request.scope), exc.__cause__ or exc)
    view = await _view_for_error(request)
    text = view.gettext("The service is busy. Nothing was changed; try again in a moment.")
    response = view.message(503, view.gettext("Busy"), text)
    response.headers["Retry-After"] = "1"
    return response


def _route(scope: Scope) -> str:
    """The route's template: a path may hold a set-password link's token."""
    return str(getattr(scope.get("route"), "path", "/?"))


async def server_error_page(request: Request) -> Response:
    view = await _view_for_error(request)
    text = view.gettext("Something went wrong on our side. Nothing you did caused it; try again in a moment.")
    return view.message(500, view.gettext("Something went wrong"), text)


class ServerErrorPages:
    """Any error no handler maps (a bug, a database gone): logged once, with its traceback,
    and answered with a page in the reader's language that shows nothing of it.

    Not an ``Exception`` handler: Starlette's ServerErrorMiddleware sends the handler's page
    and then raises the error again, to the server, which logs the traceback a second time
    (as JSON lines with no request id). Here it ends with the page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:  # too late for a page: the server ends the response, and logs why
                raise
            request = Request(scope, receive)
            log.exception("Dashboard error on %s %s", request.method, PATH + _route(scope))
            response = await server_error_page(request)
            await response(scope, receive, send)
