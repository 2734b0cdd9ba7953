"""The dashboard's cookies, CSRF tokens and response headers.

- The session cookie holds the session's random token, signed (itsdangerous) with a
  secret made once and kept in the database (``storage.owners``), so a forged or
  altered cookie is refused before any lookup; the server keeps only the token's hash, so
  signing out ends the session for good. ``HttpOnly``, ``SameSite=Lax``, ``Path=/dashboard``,
  and ``Secure`` whenever the dashboard is served over https (the request, or
  CLEVERINVO_PUBLIC_URL).
- Every form and every state-changing request carries a CSRF token: for a signed-in owner
  an HMAC of the session (so it dies with it), before signing in an HMAC of a random
  cookie of its own (sign-in and set-password forms, against login CSRF). Requests whose
  ``Origin`` (or ``Referer``) names another site are refused as well.
- Pages are sent with a strict Content-Security-Policy (scripts and styles only from this
  origin, nothing inline), never cached, never framed, and no referrer for other sites (a
  one-time link's token must not leak).
"""

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer
from starlette.requests import Request
from starlette.responses import Response

PATH = "/dashboard"
SESSION_COOKIE = "cleverinvo_session"
PRE_COOKIE = "cleverinvo_presession"  # before signing in: what the sign-in form's token is tied to
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SECRET_NAME = "dashboard-cookies"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",  # the invoice's PDF, previewed in the page
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: with it Chromium sends "Origin: null" on the page's own forms. Same-origin
    # keeps every URL (a one-time link's token) from other sites and leaves the origin check its Origin.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class Keys:
    """What the secret signs: the session cookie, and the CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")
        self._signer = Signer(self._secret, salt="cleverinvo.dashboard.session")

    def sign(self, token: str) -> str:
        return self._signer.sign(token).decode("ascii")

    def unsign(self, cookie: str) -> str | None:
        try:
            return self._signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeError, ValueError):
            return None

    def csrf(self, purpose: str, bound_to: str) -> str:
        """A token for forms of a session (``purpose`` "session", ``bound_to`` its hash) or
        of a browser not signed in ("pre", its pre-session cookie)."""
        message = f"{purpose}|{bound_to}".encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def csrf_matches(self, purpose: str, bound_to: str, given: str | None) -> bool:
        if not given or not bound_to:
            return False
        return hmac.compare_digest(self.csrf(purpose, bound_to), given.encode("ascii", "replace").decode())


def is_https(request: Request, public_url: str | None) -> bool:
    return request.url.scheme == "https" or (public_url or "").lower().startswith("https://")


def set_cookie(response: Response, name: str, value: str, *, secure: bool, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, secure=secure, httponly=True, samesite="lax")


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    response.delete_cookie(name, path=PATH, secure=secure, httponly=True, samesite="lax")


def new_pre_session() -> str:
    return secrets.token_urlsafe(32)


def same_origin(request: Request, public_url: str | None) -> bool:
    """False when the browser says the request comes from another site (``Origin``, or
    else ``Referer``); a request that says nothing is judged by its CSRF token alone."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return True
    if claimed == "null":
        return False
    parts = urlsplit(claimed)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    own = {f"{request.url.scheme}://{request.url.netloc}".lower()}
    if public_url:
        public = urlsplit(public_url)
        own.add(f"{public.scheme}://{public.netloc}".lower())
    return origin in own


def safe_next(target: str | None, default: str = PATH + "/invoices") -> str:
    """Where to go after signing in or switching language: a dashboard path only, never
    another site (``//evil.example`` or ``/dashboard/../``)."""
    if not target or not target.startswith(PATH + "/") or "//" in target or "\\" in target or ".." in target:
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return default
    return target
