"""The check every REST answer in the suite passes through (tests/contract_validation.py)
sees an answer that departs from the document, in each way it looks for."""

import httpx

from tests.conftest import Api
from tests.contract_validation import problems


def _answer(method: str, path: str, status: int, **options: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request(method, f"http://testserver{path}"), **options)  # type: ignore[arg-type]


def test_a_real_answer_passes_and_each_departure_is_named(api: Api) -> None:
    client = api.create_client(email="a@b.example")
    path = f"/api/v1/clients/{client['id']}"
    assert problems(api.get(path)) == []  # (the shared client has checked it already)
    broken = {**client, "isActive": "yes"}
    found = problems(_answer("GET", path, 200, json={"data": broken}, headers=dict(api.get(path).headers)))
    assert found and all(line.startswith("GET /api/v1/clients/{client_id} -> 200: body at") for line in found), found
    bare = problems(_answer("GET", path, 418, json={"error": "x", "code": "TEAPOT"}))
    assert bare == ["GET /api/v1/clients/{client_id} -> 418: required header X-Request-ID missing"], bare
    late = {"X-Request-ID": "r", "Retry-After": "soon", "RateLimit-Limit": "1", "RateLimit-Remaining": "0"}
    limited = problems(_answer("GET", path, 429, json={"error": "x", "code": "RATE_LIMITED"}, headers=late))
    assert limited == [
        "GET /api/v1/clients/{client_id} -> 429: required header RateLimit-Reset missing",
        "GET /api/v1/clients/{client_id} -> 429: header Retry-After: 'soon' is not an integer",
    ], limited
    text = problems(_answer("GET", path, 200, text="hello", headers={"content-type": "text/plain"}))
    assert any("content type 'text/plain' not documented" in line for line in text), text
    deleted = problems(_answer("DELETE", path, 204, text="x", headers={"X-Request-ID": "r"}))
    assert any("a body where the document declares none" in line for line in deleted), deleted
    assert problems(_answer("GET", "/healthz", 200, text="anything")) == []
