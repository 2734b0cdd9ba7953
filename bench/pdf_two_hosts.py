"""One PDF fetched from the other host: two `cleverinvo serve` processes with data
directories of their own on one PostgreSQL (the test database on loopback), each PDF rendered
by a fetch on host A, then fetched on host B. Prints host B's fetch times (p50, max) and how
many renders the cache index counts. Run: .venv/bin/python -m bench.pdf_two_hosts [count]."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from gateway.services import Services
from gateway.settings import Settings
from tests import backends
from tests.conftest import invoice_body
from tests.e2e.test_scaleout import tenant
from tests.e2e.test_two_hosts_pdf import host


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder, backends.postgres_env() as env:
        root = Path(folder)
        services = Services(Settings.from_env({**env, "CLEVERINVO_DATA_DIR": str(root / "setup")}))
        try:
            headers = tenant(services, "business")
            with host(env, root / "a") as a, host(env, root / "b") as b:
                on_a = httpx.Client(base_url=a.url, headers=headers, timeout=60)
                on_b = httpx.Client(base_url=b.url, headers=headers, timeout=60)
                client = on_a.post("/api/v1/clients", json={"name": "Acme Corp"}).json()["data"]["id"]
                on_b.get("/api/v1/clients")  # warm host B's connections
                took = []
                for _ in range(count):
                    invoice = on_a.post("/api/v1/invoices", json=invoice_body(client)).json()["data"]["id"]
                    assert on_a.get(f"/api/v1/invoices/{invoice}/pdf").status_code == 200
                    start = time.perf_counter()
                    assert on_b.get(f"/api/v1/invoices/{invoice}/pdf").status_code == 200
                    took.append(time.perf_counter() - start)
                on_a.close()
                on_b.close()
            renders = sum(services.pdfs.store.index.renders().values())
        finally:
            services.close()
    print(f"{count} PDFs, fetched on host B after host A rendered them:")
    print(f"  p50 {statistics.median(took) * 1000:.1f} ms, max {max(took) * 1000:.1f} ms; renders counted: {renders}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
