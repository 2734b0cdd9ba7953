"""Sustained writes: does `POST /invoices` hold under load, or answer 5xx?

Run by hand: python bench/writes.py [--seconds 60] [--connections 8]

A fresh data directory; `cleverinvo serve` (with its workers, as deployed) on a free
loopback port; an account on the business plan (no monthly cap) with one client; then
`--connections` clients POST invoices back to back for `--seconds` (each a keep-alive
connection, no think time). Reports requests per second, the statuses seen (a 503 with
Retry-After is an honest "busy"; a 500 is a defect) and latency percentiles. Load only
goes to 127.0.0.1.
"""

import argparse
import asyncio
import collections
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("cleverinvo"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


async def load(
    base: str, key: str, client_id: str, seconds: float, connections: int
) -> tuple[collections.Counter[int], list[float]]:
    statuses: collections.Counter[int] = collections.Counter()
    latencies: list[float] = []
    body = {"clientId": client_id, "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 10}]}
    deadline = time.monotonic() + seconds

    async def one() -> None:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await http.post("/api/v1/invoices", json=body)
                except httpx.TimeoutException:
                    statuses[0] += 1  # no answer within the client's 60 s
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] += 1

    await asyncio.gather(*(one() for _ in range(connections)))
    return statuses, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cleverinvo-writes-") as folder:
        port = free_port()
        env = {
            **os.environ,
            "CLEVERINVO_DATA_DIR": folder,
            "CLEVERINVO_RATE_LIMIT": "10000000/minute",
            "CLEVERINVO_ADDRESS_RATE_LIMIT": "10000000/minute",
        }
        account = cli(env, "accounts", "create", "Load", "--plan", "business")
        key = cli(env, "keys", "create", account, "--name", "load")
        log = Path(folder) / "serve.log"  # a file, never a pipe nobody reads: the log would block the server
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=sink
            )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {"Authorization": f"Bearer {key}"}
            made = httpx.post(f"{base}/api/v1/clients", json={"name": "Acme"}, headers=headers)
            client_id = made.json()["data"]["id"]
            started = time.monotonic()
            statuses, latencies = asyncio.run(load(base, key, client_id, args.seconds, args.connections))
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=60)
        errors = log.read_bytes()
    total = sum(statuses.values())
    cuts = statistics.quantiles(latencies or [0.0, 0.0], n=100)
    print(f"{total} requests in {elapsed:.1f} s: {total / elapsed:.0f}/s with {args.connections} connections")
    print("statuses:", dict(sorted(statuses.items())))
    print(f"latency ms: p50 {cuts[49] * 1000:.1f}  p99 {cuts[98] * 1000:.1f}  max {max(latencies) * 1000:.1f}")
    faults = [
        line
        for line in errors.decode(errors="replace").splitlines()
        if '"level": "ERROR"' in line or "Traceback" in line
    ]
    print(f"server error lines: {len(faults)}")
    for line in faults[:5]:
        print("  ", line[:300])


if __name__ == "__main__":
    main()
