"""PDF downloads, as every door serves them: ETags and 304s, and the file's name
(``pdf.filenames``)."""

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.etags import none_match
from pdf.filenames import content_disposition
from pdf.service import InvoicePdf


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
