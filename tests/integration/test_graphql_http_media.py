"""GraphQL over HTTP, as the GraphQL-over-HTTP specification and RFC 9110 say it: the
``application/graphql-response+json`` media type (a request that never ran is a 4xx
without ``data``), HEAD answered as GET without a body, and a 405 that names the methods."""

import pytest

from tests.conftest import Api

GRAPHQL_RESPONSE = "application/graphql-response+json"


def post(api: Api, query: str, accept: str | None) -> tuple[int, str, dict[str, object]]:
    assert api.tenant is not None
    headers = dict(api.tenant.headers)
    if accept is not None:
        headers["Accept"] = accept
    answer = api.http.post("/graphql", json={"query": query}, headers=headers)
    return answer.status_code, answer.headers["content-type"], answer.json()


@pytest.mark.parametrize("query", ["{ clients { total ", "{ noSuchField }", "{ clients { total } } query Other { x }"])
def test_a_request_that_never_ran_is_a_400_without_data_in_the_new_media_type(api: Api, query: str) -> None:
    status, kind, body = post(api, query, GRAPHQL_RESPONSE)
    assert (status, kind) == (400, f"{GRAPHQL_RESPONSE}; charset=utf-8")
    assert "data" not in body
    assert body["errors"]


def test_a_request_that_ran_is_a_200_in_the_media_type_asked_for(api: Api) -> None:
    status, kind, body = post(api, "{ clients { total } }", f"{GRAPHQL_RESPONSE}, application/json;q=0.9")
    assert (status, kind, body["data"]) == (200, f"{GRAPHQL_RESPONSE}; charset=utf-8", {"clients": {"total": 0}})


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", f"application/json, {GRAPHQL_RESPONSE};q=0.5"])
def test_a_client_of_plain_json_keeps_the_legacy_answer(api: Api, accept: str | None) -> None:
    status, kind, body = post(api, "{ noSuchField }", accept)
    assert (status, kind.split(";")[0]) == (200, "application/json")
    assert body["data"] is None and body["errors"]


def test_head_answers_as_get_without_a_body(api: Api) -> None:
    assert api.tenant is not None
    url = "/graphql?query=%7B%20clients%20%7B%20total%20%7D%20%7D"
    got = api.http.get(url, headers=api.tenant.headers)
    head = api.http.head(url, headers=api.tenant.headers)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_405_of_graphql_names_the_methods(api: Api, method: str) -> None:
    assert api.tenant is not None
    answer = api.http.request(method, "/graphql", headers=api.tenant.headers)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST"
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
