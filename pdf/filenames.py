"""A PDF's file name as a download or an attachment names it: RFC 6266 (a plain filename
every client reads, plus ``filename*`` for the exact name)."""

import re
import unicodedata
from urllib.parse import quote

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
