"""What every dashboard request goes through: who is signed in (if anyone), in which
language, the CSRF check of anything that changes state, the actor the ledger records,
and the pages a handler builds on (``View``). The pages for whatever goes wrong are in
``error_pages``."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import quote, urlencode
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from domain.account import LOCALES
from domain.actors import account_owner, acting_as
from domain.errors import DomainError, NotFound
from gateway.dashboard import security
from gateway.dashboard.forms import Form, read_form
from gateway.dashboard.i18n import LANGUAGE_NAMES, Formatter, negotiate
from gateway.dashboard.problems import Problem, explain
from gateway.dashboard.rendering import render
from gateway.dashboard.security import CSRF_FIELD, PATH, PRE_COOKIE, SESSION_COOKIE, Keys
from gateway.http import codes
from gateway.http.errors import STATUS
from gateway.http.problems import HttpProblem
from gateway.http.ratelimit import RateLimiter
from gateway.services import Services
from translations import N_, catalog
from usecases.owners import SESSION_MOST, OwnerSession
from usecases.service import UseCases
from usecases.views import AccountView
from usecases.wire_names import wire_message

T = TypeVar("T")
SIGN_IN_RATE = "10/minute"  # sign-in (and set-password) attempts per address
SAFE = ("GET", "HEAD")  # methods that show and change nothing

NOTICES = {
    "signed-out": N_("You are signed out."),
    "client-created": N_("Client added."),
    "client-saved": N_("Client saved."),
    "client-deactivated": N_("Client deactivated."),
    "client-reactivated": N_("Client reactivated."),
    "invoice-created": N_("Draft saved."),
    "invoice-saved": N_("Draft saved."),
    "invoice-deleted": N_("Draft deleted."),
    "invoice-sent": N_("Invoice sent."),
    "invoice-emailed": N_("Invoice sent: the email is on its way."),
    "payment-recorded": N_("Payment recorded."),
    "payment-reversed": N_("Payment reversed."),
    "invoice-voided": N_("Invoice voided."),
    "key-revoked": N_("API key revoked: it stops working at once."),
    "settings-saved": N_("Settings saved."),
    "password-changed": N_("Password changed. You are signed out everywhere else."),
    "language-chosen": N_("Language changed."),
}


@dataclass
class Dashboard:
    """The dashboard's share of the running service."""

    services: Services
    sign_in_limiter: RateLimiter
    _keys: Keys | None = None

    @property
    def usecases(self) -> UseCases:
        return self.services.usecases

    @property
    def public_url(self) -> str | None:
        return self.services.settings.public_url

    async def keys(self) -> Keys:
        if self._keys is None:
            secret = await run_in_threadpool(self.usecases.owners.store.secret, security.SECRET_NAME)
            self._keys = Keys(secret)
        return self._keys


def dashboard_of(request: Request) -> Dashboard:
    found: Dashboard = request.app.state.dashboard
    return found


@dataclass
class View:
    """One request as a page sees it."""

    request: Request
    dashboard: Dashboard
    keys: Keys
    locale: str
    session: OwnerSession | None = None
    account: AccountView | None = None
    form: Form = field(default_factory=lambda: Form([]))
    pre_session: str | None = None  # a new pre-session cookie to set
    _csrf: str = ""

    @property
    def usecases(self) -> UseCases:
        return self.dashboard.usecases

    @property
    def account_id(self) -> UUID:
        if self.session is None:  # pragma: no cover - only owner pages ask
            raise NotFound("Account not found")
        return self.session.account_id

    @cached_property
    def fmt(self) -> Formatter:
        return Formatter(self.locale)

    @property
    def reading(self) -> bool:
        """A GET (or HEAD): shows, changes nothing."""
        return self.request.method in SAFE

    @property
    def public_url(self) -> str:
        """Where the API and share links are: CLEVERINVO_PUBLIC_URL, or this server."""
        url = self.request.url
        return (self.dashboard.public_url or f"{url.scheme}://{url.netloc}").rstrip("/")

    @property
    def secure(self) -> bool:
        return security.is_https(self.request, self.dashboard.public_url)

    def gettext(self, message: str) -> str:
        return catalog(self.locale).gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        """A message whose translation depends on what it is said of (GNU gettext's msgctxt):
        "Created" of an invoice and of a client are two words in Spanish."""
        return catalog(self.locale).pgettext(context, message)

    def status_of(self, error: DomainError) -> int:
        """A refused form's status: the API's for the same refusal."""
        meaning = codes.meaning_of(error)
        return meaning.status if meaning is not None else STATUS.get(error.code, 400)

    def explain(self, error: DomainError | HttpProblem) -> Problem:
        """A refusal (the use case's, its fields by the form's names, or the request's own) in
        the reader's words."""
        message = wire_message(error) if isinstance(error, DomainError) else error.message
        return explain(message, self.gettext, lambda amount, currency: self.fmt.money(Decimal(amount), currency))

    async def call(self, use_case: Callable[..., T], *args: Any) -> T:
        """Runs a use case off the event loop (as the signed-in owner: the context is copied)."""
        return await run_in_threadpool(use_case, *args)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        notice = NOTICES.get(self.request.query_params.get("notice", ""))
        here = self.request.url.path + (f"?{self.request.url.query}" if self.request.url.query else "")
        response = render(
            template,
            {
                "view": self,
                "fmt": self.fmt,
                "csrf": self._csrf,
                "csrf_field": CSRF_FIELD,
                "locale": self.locale,
                "languages": LANGUAGE_NAMES,
                "account": self.account,
                "session": self.session,
                "notice": self.gettext(notice) if notice else None,
                "here": here,
                "language_links": self._language_links(),
                "problems": [],
                **context,
            },
            self.locale,
            status,
        )
        if self.pre_session is not None:
            security.set_cookie(response, PRE_COOKIE, self.pre_session, secure=self.secure, max_age=None)
        return response

    def _language_links(self) -> dict[str, str]:
        """This page in each language, before signing in (its other parameters, ``next``, kept)."""
        kept = [(name, value) for name, value in self.request.query_params.multi_items() if name != "lang"]
        return {code: "?" + urlencode([*kept, ("lang", code)]) for code in LANGUAGE_NAMES}

    def redirect(self, path: str, notice: str | None = None, **params: str) -> RedirectResponse:
        query = {**params, **({"notice": notice} if notice else {})}
        return RedirectResponse(PATH + path + (f"?{urlencode(query)}" if query else ""), status_code=303)

    def message(self, status: int, title: str, text: str) -> HTMLResponse:
        return self.page("message.html", status=status, title=title, text=text)


def anonymous_locale(request: Request) -> str:
    chosen = request.query_params.get("lang", "")
    return chosen if chosen in LOCALES else negotiate(request.headers.get("accept-language"))


async def open_view(request: Request) -> View:
    """Who is asking: the session the cookie names (if it is live), and the language."""
    dashboard = dashboard_of(request)
    keys = await dashboard.keys()
    session: OwnerSession | None = None
    account: AccountView | None = None
    cookie = request.cookies.get(SESSION_COOKIE)
    token = keys.unsign(cookie) if cookie else None
    if token:
        session = await run_in_threadpool(dashboard.usecases.owners.session, token)
    if session is not None:
        try:
            account = await run_in_threadpool(dashboard.usecases.accounts.get, session.account_id)
        except NotFound:
            session = None
    locale = (session.locale or account.locale) if session and account else anonymous_locale(request)
    view = View(request, dashboard, keys, locale if locale in LOCALES else "en", session, account)
    if session is not None:
        view._csrf = keys.csrf("session", session.token_hash)
    else:
        pre = request.cookies.get(PRE_COOKIE)
        if not pre or len(pre) > 100:
            pre = view.pre_session = security.new_pre_session()
        view._csrf = keys.csrf("pre", pre)
    request.state.dashboard_view = view
    return view


async def _checked_post(view: View) -> Response | None:
    """A refusal page unless the request is a same-site form with a valid CSRF token."""
    request = view.request
    if not security.same_origin(request, view.dashboard.public_url):
        return view.message(403, view.gettext("Refused"), view.gettext("This request came from another site."))
    limit = view.dashboard.services.settings.max_body_bytes
    view.form = await read_form(request, limit)
    given = view.form.get(CSRF_FIELD)
    if view.session is not None:
        valid = view.keys.csrf_matches("session", view.session.token_hash, given)
    else:
        pre = request.cookies.get(PRE_COOKIE, "")
        valid = view.pre_session is None and view.keys.csrf_matches("pre", pre, given)
    if not valid:
        title = view.gettext("This form has expired")
        return view.message(403, title, view.gettext("Nothing was changed. Go back, reload the page and try again."))
    return None


Handler = Callable[[View], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def owner_page(handler: Handler, *, form: bool = True) -> Endpoint:
    """A page for a signed-in owner only; a POST must carry the form's CSRF token (or,
    with ``form=False``, the ``X-CSRF-Token`` header). What it records names the owner."""

    async def endpoint(request: Request) -> Response:
        view = await open_view(request)
        if view.session is None:
            if request.method in SAFE:
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{PATH}/sign-in?next={quote(here, safe='')}", status_code=303)
            return view.message(401, view.gettext("Signed out"), view.gettext("Sign in again to go on."))
        if request.method not in SAFE:
            if form:
                refused = await _checked_post(view)
                if refused is not None:
                    return refused
            elif not security.same_origin(request, view.dashboard.public_url) or not view.keys.csrf_matches(
                "session", view.session.token_hash, request.headers.get(security.CSRF_HEADER)
            ):
                return view.message(403, view.gettext("Refused"), view.gettext("This request came from another site."))
        with acting_as(account_owner(str(view.session.owner_id), view.session.email)):
            return await handler(view)

    return endpoint


def public_page(handler: Handler) -> Endpoint:
    """A page for anyone (signing in, setting a password); a POST carries the CSRF token
    tied to the browser's pre-session cookie."""

    async def endpoint(request: Request) -> Response:
        view = await open_view(request)
        if request.method not in SAFE:
            refused = await _checked_post(view)
            if refused is not None:
                return refused
        return await handler(view)

    return endpoint


def start_session(response: Response, view: View, token: str) -> Response:
    security.set_cookie(
        response, SESSION_COOKIE, view.keys.sign(token), secure=view.secure, max_age=int(SESSION_MOST.total_seconds())
    )
    security.clear_cookie(response, PRE_COOKIE, secure=view.secure)
    return response


def end_session(response: Response, view: View) -> Response:
    security.clear_cookie(response, SESSION_COOKIE, secure=view.secure)
    return response
