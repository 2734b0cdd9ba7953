"""PDF downloads: ETags, and RFC 6266 names (a plain filename every client reads, plus filename*)."""

import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.etags import none_match
from pdf.service import InvoicePdf

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def content_disposition(filename: str) -> str:
    """``attachment; filename="INV-0042.pdf"``; names with quotes, slashes, control or
    non-ASCII characters get an ASCII fallback and the exact name in ``filename*``."""
    decomposed = unicodedata.normalize("NFKD", filename)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))  # ó -> o; Ł stays, then _
    fallback = _UNSAFE.sub("_", folded).strip(" .") or "invoice.pdf"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def not_modified(request: Request, etag: str) -> Response | None:
    """304 when the client's copy (its ETag) is current: If-None-Match compared weakly,
    a list or ``*`` (RFC 9110 §13.1.2), as every ETag of the API is."""
    if none_match(request, etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "private, no-cache"})
    return None


def pdf_response(request: Request, pdf: InvoicePdf) -> Response:
    """The PDF as a download, or 304 when the client's copy (its ETag) is current."""
    unchanged = not_modified(request, pdf.etag)
    if unchanged is not None:
        return unchanged
    headers = {
        "ETag": pdf.etag,
        "Cache-Control": "private, no-cache",
        "Content-Disposition": content_disposition(f"{pdf.invoice_number}.pdf"),
    }
    return Response(pdf.content, media_type="application/pdf", headers=headers)
