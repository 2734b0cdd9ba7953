"""Two hosts, one rendering: two `cleverinvo serve` processes with data directories of their
own on one PostgreSQL (and Redis). A PDF rendered on host A is served by host B from the
database, byte for byte, without a second render (the cache index counts renders per key)."""

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from gateway.services import Services
from gateway.settings import Settings
from storage.pdf_cache import pdf_blobs
from tests import backends
from tests.conftest import invoice_body
from tests.e2e.test_pdf_workers import _invoices
from tests.e2e.test_scaleout import ROOT, Server, free_port, tenant

pytestmark = pytest.mark.postgres


@contextlib.contextmanager
def host(env: dict[str, str], data_dir: Path) -> Iterator[Server]:
    """`cleverinvo serve --no-workers` with its own data directory and port, until the block ends."""
    data_dir.mkdir()
    port = free_port()
    output = data_dir / "serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--no-workers", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **env, "CLEVERINVO_DATA_DIR": str(data_dir)},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, output)
    try:
        server.wait_healthy()
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


def test_a_pdf_rendered_on_one_host_is_served_by_the_other_without_rendering_again(tmp_path: Path) -> None:
    with backends.postgres_env() as env:
        settings = Settings.from_env({**env, "CLEVERINVO_DATA_DIR": str(tmp_path / "setup")})
        services = Services(settings)
        try:
            headers = tenant(services, "pro")
            with host(env, tmp_path / "a") as a, host(env, tmp_path / "b") as b:
                with httpx.Client(base_url=a.url, headers=headers, timeout=60) as on_a:
                    client = on_a.post("/api/v1/clients", json={"name": "Acme Corp"}).json()["data"]["id"]
                    invoice = on_a.post("/api/v1/invoices", json=invoice_body(client)).json()["data"]["id"]
                    first = on_a.get(f"/api/v1/invoices/{invoice}/pdf")
                assert first.status_code == 200 and first.content.startswith(b"%PDF")
                with httpx.Client(base_url=b.url, headers=headers, timeout=60) as on_b:
                    second = on_b.get(f"/api/v1/invoices/{invoice}/pdf")
                assert second.status_code == 200
                assert second.content == first.content
                assert second.headers["etag"] == first.headers["etag"]
                assert list(services.pdfs.store.index.renders().values()) == [1]  # rendered once, on A
            # neither host wrote the PDF into its own directory: the database holds it
            assert not list((tmp_path / "a").rglob("*.pdf")) and not list((tmp_path / "b").rglob("*.pdf"))
        finally:
            services.close()


def _blob_keys(services: Services) -> set[str]:
    with services.pdfs.store.index.reader.connect() as conn:
        return set(conn.execute(select(pdf_blobs.c.render_key)).scalars())


def test_the_database_holds_the_bytes_of_the_indexed_keys_only_within_the_bound(tmp_path: Path) -> None:
    """The cache's bound and its deletions hold for the rows as they did for the files: an
    invoice's older version, the least recently used past CLEVERINVO_PDF_CACHE_MAX and a
    deleted invoice's PDF leave pdf_blobs in the transaction that leaves the index."""
    with backends.postgres_env() as env:
        settings = Settings.from_env({**env, "CLEVERINVO_DATA_DIR": str(tmp_path), "CLEVERINVO_PDF_CACHE_MAX": "3"})
        services = Services(settings)
        try:
            invoices = _invoices(services, 5, lines=1)
            assert services.pdf_worker().run_once(budget_seconds=60) == 5
            index = services.pdfs.store.index
            assert _blob_keys(services) == set(index.renders()) and len(index.renders()) == 3
            kept = [invoice for invoice in invoices if services.pdfs.store.has(invoice)]
            account = UUID(services.read.invoice_account(kept[0]) or "")
            services.execute(lambda: services.app.update_invoice(account, UUID(kept[0]), {"notes": "Changed"}))
            services.execute(lambda: services.app.delete_invoice(account, UUID(kept[1])))
            services.pdf_worker().run_once(budget_seconds=60)
            assert _blob_keys(services) == set(index.renders()) and not services.pdfs.store.has(kept[1])
            assert not list(tmp_path.rglob("*.pdf"))
        finally:
            services.close()
