"""Signing in and out, the one-time link that sets a password, and the language."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.account import LOCALES
from domain.errors import DomainError, ValidationError
from gateway.dashboard import settings_pages
from gateway.dashboard.checks import password_refusals
from gateway.dashboard.problems import Problem
from gateway.dashboard.security import PATH, safe_next
from gateway.dashboard.web import View, end_session, owner_page, public_page, start_session
from usecases.owners import SignedIn, check_password


async def home(request: Request) -> Response:
    return RedirectResponse(f"{PATH}/invoices", status_code=303)


def _address(view: View) -> str:
    client = view.request.client
    return client.host if client else "unknown"


async def _too_many(view: View) -> Response | None:
    budget = await view.dashboard.sign_in_limiter.spend(f"dashboard-sign-in:{_address(view)}")
    if budget.allowed:
        return None
    response = view.message(
        429,
        view.gettext("Too many attempts"),
        view.gettext("Too many attempts from this address. Wait a minute, then try again."),
    )
    response.headers.update(budget.headers())
    return response


def _chosen_language(view: View) -> str | None:
    """The language picked on the page before signing in (``?lang=``), if one was."""
    chosen = view.request.query_params.get("lang")
    return chosen if chosen in LOCALES else None


async def _signed_in(view: View, signed: SignedIn, target: str) -> Response:
    """The new session, in the language picked before signing in (else the account's)."""
    chosen = _chosen_language(view)
    if chosen is not None:
        await view.call(view.usecases.owners.choose_locale, signed.session, chosen)
    return start_session(RedirectResponse(target, status_code=303), view, signed.token)


async def sign_in_page(view: View) -> Response:
    target = safe_next(view.request.query_params.get("next") or view.form.get("next") or None)
    if view.session is not None:
        return RedirectResponse(target, status_code=303)
    if view.reading:
        return view.page("sign_in.html", next=target, email="", chosen=_chosen_language(view))
    refused = await _too_many(view)
    if refused is not None:
        return refused
    email, password = view.form.get("email"), view.form.get("password")
    signed = await view.call(view.usecases.owners.sign_in, email, password)
    if signed is None:
        problem = view.gettext("That email and password do not match. Check both and try again.")
        chosen = _chosen_language(view)
        return view.page("sign_in.html", status=401, next=target, email=email, failed=problem, chosen=chosen)
    return await _signed_in(view, signed, target)


async def sign_out(view: View) -> Response:
    assert view.session is not None
    await view.call(view.usecases.owners.sign_out, view.session)
    return end_session(RedirectResponse(f"{PATH}/sign-in?notice=signed-out", status_code=303), view)


async def welcome(view: View) -> Response:
    """The one-time link: set a password (the first owner chooses their email too)."""
    token = view.request.path_params["token"]
    info = await view.call(view.usecases.owners.link, token)
    if info is None:
        return view.message(
            410,
            view.gettext("This link cannot be used"),
            view.gettext("It has expired or was already used. Ask for a new link, or sign in."),
        )
    if view.reading:
        return view.page("welcome.html", info=info, email="")
    refused = await _too_many(view)
    if refused is not None:
        return refused
    email = view.form.get("email") if info.email is None else info.email
    password, again = view.form.get("password"), view.form.get("password_again")
    try:
        if password == again:
            signed = await view.call(view.usecases.owners.set_password, token, password, email)
            return await _signed_in(view, signed, f"{PATH}/keys?welcome=1")
        check_password(password, email or None)  # told beside the two passwords that differ
        status, problems = 400, []
    except DomainError as exc:
        status, problems = view.status_of(exc), _password_problems(view, password, email or None, exc)
    problems += _differ(view, password, again)
    return view.page("welcome.html", status=status, info=info, email=email, problems=problems)


def _password_problems(view: View, password: str, email: str | None, exc: DomainError) -> list[Problem]:
    """Every rule a new password breaks at once (the use case says the first), or the one
    refusal that is not about it."""
    if not isinstance(exc, ValidationError):
        return [view.explain(exc)]
    return [view.explain(error) for error in password_refusals(password, email, exc)]


def _differ(view: View, password: str, again: str) -> list[Problem]:
    if password == again:
        return []
    return [Problem(view.gettext("The two passwords differ. Type the same password twice."), "password_again")]


async def change_password(view: View) -> Response:
    """A signed-in owner's new password (the current one asked first; guesses count
    against the address's sign-in attempts): every other session of theirs ends."""
    assert view.session is not None
    refused = await _too_many(view)
    if refused is not None:
        return refused
    password, again = view.form.get("password"), view.form.get("password_again")
    email = view.session.email
    try:
        if password == again:
            signed = await view.call(
                view.usecases.owners.change_password, view.session, view.form.get("currentPassword"), password
            )
            return start_session(view.redirect("/settings", "password-changed"), view, signed.token)
        check_password(password, email)  # told beside the two passwords that differ
        status, problems = 400, []
    except DomainError as exc:
        status, problems = view.status_of(exc), _password_problems(view, password, email, exc)
    return await settings_pages.page(view, status, problems=problems + _differ(view, password, again))


async def choose_language(view: View) -> Response:
    """The dashboard's language in this browser; the account's own locale (its invoices')
    is in the settings."""
    chosen = view.form.get("locale")
    target = safe_next(view.form.get("next") or None)
    if chosen not in LOCALES:
        return RedirectResponse(target, status_code=303)
    assert view.session is not None
    await view.call(view.usecases.owners.choose_locale, view.session, chosen)
    return RedirectResponse(target, status_code=303)


SIGN_IN = public_page(sign_in_page)
WELCOME = public_page(welcome)
SIGN_OUT = owner_page(sign_out)
LANGUAGE = owner_page(choose_language)
PASSWORD = owner_page(change_password)
