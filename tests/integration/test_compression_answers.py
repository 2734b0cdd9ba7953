"""Compressed JSON answers (gateway/http/compression.py): gzip and brotli as asked, Vary, an
ETag per representation that conditional requests still match, and what is never
compressed (small answers, PDFs and other non-JSON bodies, streams, no-transform)."""

import gzip
import importlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.http.compression import Compression, chosen_coding
from tests.conftest import Api

brotli: Any = importlib.import_module("brotli")  # the brotli package (PyPI), a dependency


def raw(api: Api, path: str, encoding: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent, not decoded."""
    assert api.tenant is not None
    sent = {**api.tenant.headers, "Accept-Encoding": encoding, **headers}
    with api.http.stream("GET", path, headers=sent) as answer:
        return answer, b"".join(answer.iter_raw())


def invoices(api: Api, count: int) -> str:
    client = api.create_client(name="Acme", email="billing@acme.test")
    lines = [{"description": f"Line {n}", "quantity": 1, "unitPrice": 10} for n in range(5)]
    return [api.create_invoice(client["id"], lineItems=lines)["id"] for _ in range(count)][0]


@pytest.mark.parametrize(("coding", "decode"), [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_a_large_json_answer_is_compressed_as_asked(api: Api, coding: str, decode: Any) -> None:
    invoices(api, 6)
    plain, identity = raw(api, "/api/v1/invoices?limit=100", "identity")
    assert "content-encoding" not in plain.headers and len(identity) > 2048
    answer, body = raw(api, "/api/v1/invoices?limit=100", f"{coding}, identity;q=0.5")
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == coding
    assert "accept-encoding" in answer.headers["vary"].lower()
    assert int(answer.headers["content-length"]) == len(body) < len(identity) / 2
    assert decode(body) == identity


def test_the_contract_document_is_compressed(api: Api) -> None:
    answer, body = raw(api, "/api/v1/openapi.json", "gzip, br")
    assert answer.headers["content-encoding"] == "br"  # brotli is preferred on a tie
    _, identity = raw(api, "/api/v1/openapi.json", "identity")
    assert brotli.decompress(body) == identity


def test_a_small_answer_goes_as_it_is_but_still_varies(api: Api) -> None:
    answer, body = raw(api, "/api/v1/clients", "gzip")
    assert "content-encoding" not in answer.headers and len(body) < 1024
    assert "accept-encoding" in answer.headers["vary"].lower()


def test_each_encoding_has_its_own_etag_and_conditional_requests_match_any_of_them(api: Api) -> None:
    invoice = invoices(api, 1)
    path = f"/api/v1/invoices/{invoice}"
    plain, identity = raw(api, path, "identity")
    zipped, body = raw(api, path, "gzip")
    assert len(identity) >= 1024 and zipped.headers["content-encoding"] == "gzip"
    tag, zipped_tag = plain.headers["etag"], zipped.headers["etag"]
    assert zipped_tag == f'{tag[:-1]}-gzip"' != tag  # RFC 9110 §8.8.3: not the identity one's strong tag
    held, _ = raw(api, path, "gzip", **{"If-None-Match": zipped_tag})
    assert (held.status_code, held.headers["etag"]) == (304, zipped_tag)
    held, _ = raw(api, path, "identity", **{"If-None-Match": zipped_tag})
    assert held.status_code == 304
    changed = api.request("PATCH", path, {"notes": "n"}, headers={"If-Match": zipped_tag})
    assert changed.status_code == 200, changed.text
    stale = api.request("PATCH", path, {"notes": "m"}, headers={"If-Match": zipped_tag})
    assert stale.status_code == 412


def _app() -> Starlette:
    big = {"text": "x" * 4000}

    async def pdf(_: Request) -> Response:
        return Response(b"%PDF-1.7 " + b"0" * 4000, media_type="application/pdf")

    async def kept(_: Request) -> Response:
        return JSONResponse(big, headers={"Cache-Control": "no-transform"})

    async def streamed(_: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b'{"part": "' + b"y" * 2000 + b'"}\n'

        return StreamingResponse(parts(), media_type="application/json")

    async def plain(_: Request) -> Response:
        return JSONResponse(big)

    routes = [Route("/pdf", pdf), Route("/kept", kept), Route("/streamed", streamed), Route("/plain", plain)]
    return Starlette(routes=routes)


@pytest.mark.parametrize("path", ["/pdf", "/kept", "/streamed"])
def test_pdfs_streams_and_no_transform_are_never_compressed(path: str) -> None:
    with TestClient(Compression(_app())) as http, http.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as got:
        assert "content-encoding" not in got.headers
        assert len(b"".join(got.iter_raw())) > 4000


def test_the_same_app_compresses_its_plain_json() -> None:
    with TestClient(Compression(_app())) as http:
        assert http.get("/plain", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("identity", None),
        ("gzip", "gzip"),
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0", "br"),
        ("deflate", None),
        ("GZIP;q=0.8", "gzip"),
    ],
)
def test_the_coding_is_the_one_weighed_highest(header: str | None, coding: str | None) -> None:
    assert chosen_coding(header) == coding
