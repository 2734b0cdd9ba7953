"""Every answer the REST tests receive is checked against the OpenAPI document.

``check(response)`` finds the operation the request reached (method and path template of
``/api/v1/...``), and holds the answer to what the document declares for its status: the
status itself (or ``default``), each required header and the value of every declared one,
the media type, and the JSON body under the declared schema (JSON Schema 2020-12, formats
checked). A 204, a 304 and a HEAD carry no body. Requests outside the document (GraphQL,
the dashboard, /healthz) are not checked.

The shared test client (tests/conftest.py's ``Api``) calls it on every answer, so the REST
suite as a whole is a check that the document tells the truth about what the service sends.
"""

import functools
import json
import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from gateway.rest.contract.openapi import document

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
NO_BODY = {204, 304}


@functools.cache
def _spec() -> dict[str, Any]:
    return document()


@functools.cache
def _routes() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each documented path as a pattern; literal paths before templated ones."""
    found = []
    for template in _spec()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}$"), template))
    return tuple(sorted(found, key=lambda pair: pair[1].count("{")))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follows a local ``$ref`` (#/components/...) to what it names."""
    while "$ref" in node:
        target: Any = _spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    root = {**json.loads(schema_json), "components": _spec()["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The documented operation a request reached, with its path template; None outside."""
    for pattern, template in _routes():
        if pattern.match(path):
            found = _spec()["paths"][template].get(method.lower())
            return (template, found) if found is not None else None
    return None


def _header_problems(where: str, name: str, text: str, schema: dict[str, Any]) -> list[str]:
    """A header's value under its schema: an integer one as its digits (RFC 9110 section 5.5's
    field value is text; the document's schema says what the text holds)."""
    value: Any = text
    if schema.get("type") == "integer":
        if not text.isascii() or not text.isdigit():
            return [f"{where}: header {name}: {text!r} is not an integer"]
        value = int(text)
    validator = _validator(json.dumps(schema, sort_keys=True))
    return [f"{where}: header {name}: {error.message[:200]}" for error in validator.iter_errors(value)]


def problems(response: httpx.Response) -> list[str]:
    """Where the answer departs from the document; empty when it matches."""
    request = response.request
    method = request.method.lower()
    reached = operation_of("get" if method == "head" else method, request.url.path)
    if method not in METHODS or reached is None:
        return []
    template, operation = reached
    where = f"{request.method} {template} -> {response.status_code}"
    declared = operation["responses"]
    answer = declared.get(str(response.status_code), declared.get("default"))
    if answer is None:
        return [f"{where}: status not documented (documented: {sorted(declared)})"]
    answer = _resolve(answer)
    found = []
    for name, header in answer.get("headers", {}).items():
        declared_header = _resolve(header)
        if name.lower() not in response.headers:
            if declared_header.get("required"):
                found.append(f"{where}: required header {name} missing")
            continue
        found += _header_problems(where, name, response.headers[name], declared_header.get("schema", {}))
    content = answer.get("content", {})
    if method == "head" or response.status_code in NO_BODY or not content:
        if method != "head" and response.content:
            found.append(f"{where}: a body where the document declares none")
        return found
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in content:
        return [*found, f"{where}: content type {media!r} not documented (documented: {sorted(content)})"]
    schema = content[media].get("schema")
    if media != "application/json" or schema is None:
        return found
    try:
        body = response.json()
    except ValueError:
        return [*found, f"{where}: body is not JSON: {response.text[:200]!r}"]
    validator = _validator(json.dumps(schema, sort_keys=True))
    for error in validator.iter_errors(body):
        found.append(f"{where}: body at {list(error.absolute_path)}: {error.message[:300]}")
    return found


def check(response: httpx.Response) -> httpx.Response:
    """The answer as it came, after asserting it matches the document."""
    found = problems(response)
    assert not found, "answer breaks the OpenAPI document:\n" + "\n".join(found)
    return response
