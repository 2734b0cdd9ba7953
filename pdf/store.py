"""Cached PDF bytes, indexed in the read-model database: in files named by render key on
SQLite, in the database itself (``pdf_blobs``) on PostgreSQL.

SQLite is one host: files are cheap to keep and to serve, and they stay out of the
database, whose size and backups they would otherwise dominate (100,000 invoices are about
2.3 GB of PDFs). PostgreSQL is what several hosts share, and each host has its own data
directory: with files, a PDF rendered on one host was rendered again on every other (p50
0.9 s, up to 2.3 s, for a fetch on the second host). So there the bytes go into the
database, in the transaction that indexes them, and one rendering serves every host; the
cache's bound (CLEVERINVO_PDF_CACHE_MAX entries, least recently used first) bounds the
table too. A file the index names but the disk lacks (a cleaned folder) is a miss: the PDF
is rendered again, never served wrong.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from storage.pdf_cache import PdfIndex


class PdfStore:
    def __init__(self, index: PdfIndex, folder: Path, keep: int, *, in_database: bool = False) -> None:
        self.index = index
        self.folder = folder
        self.keep = keep
        self.in_database = in_database  # the bytes in pdf_blobs (hosts sharing PostgreSQL), not files

    def path(self, render_key: str) -> Path:
        return self.folder / render_key[:2] / f"{render_key}.pdf"

    def get(self, invoice_id: str, render_key: str) -> bytes | None:
        if not self.index.lookup(invoice_id, render_key):
            return None
        if self.in_database:
            return self.index.content(render_key)
        try:
            return self.path(render_key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, invoice_id: str, render_key: str, content: bytes) -> bool:
        """Stores the bytes unless the invoice was deleted meanwhile; False if it was."""
        if self.in_database:  # bytes and index entry in one transaction; old keys' rows go with them
            kept, _stale = self.index.record(invoice_id, render_key, len(content), self.keep, content)
            return kept
        target = self.path(render_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        kept, stale = self.index.record(invoice_id, render_key, len(content), self.keep)
        self.remove(stale if kept else [*stale, render_key])
        return kept

    def discard(self, invoice_id: str) -> None:
        self.remove(self.index.forget(invoice_id))

    def has(self, invoice_id: str) -> bool:
        if self.in_database:
            return bool(self.index.keys(invoice_id))
        return any(self.path(key).exists() for key in self.index.keys(invoice_id))

    def remove(self, keys: list[str]) -> None:
        """Deletes the files of keys the index no longer names (their rows in the database
        went with the index's)."""
        if self.in_database:
            return
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                self.path(key).unlink()
