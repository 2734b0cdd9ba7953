"""Cached PDF bytes: files named by render key, indexed in the read-model database.

Files are cheap to keep and to serve, and they stay out of the database, whose size and
backups they would otherwise dominate (100,000 invoices are about 2.3 GB of PDFs). A file
the index names but the disk lacks (another host's disk, a cleaned folder) is a miss: the
PDF is rendered again, never served wrong.
"""

import contextlib
import os
import tempfile
from pathlib import Path

from projections.pdf_cache import PdfIndex


class PdfStore:
    def __init__(self, index: PdfIndex, folder: Path, keep: int) -> None:
        self.index = index
        self.folder = folder
        self.keep = keep

    def path(self, render_key: str) -> Path:
        return self.folder / render_key[:2] / f"{render_key}.pdf"

    def get(self, invoice_id: str, render_key: str) -> bytes | None:
        if not self.index.lookup(invoice_id, render_key):
            return None
        try:
            return self.path(render_key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, invoice_id: str, render_key: str, content: bytes) -> bool:
        """Stores the bytes unless the invoice was deleted meanwhile; False if it was."""
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
        return any(self.path(key).exists() for key in self.index.keys(invoice_id))

    def remove(self, keys: list[str]) -> None:
        """Deletes the files of keys the index no longer names."""
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                self.path(key).unlink()
