"""The document's schemas (``components.schemas``): JSON Schema 2020-12 made by msgspec from
the Structs the operations name, then written as this API's wire has them.

- a Decimal is a JSON number, a single boolean a typed ``const``, a docstring plain text;
- every closed set of values is one named schema (``enums``), referenced where it is held;
- a response field on the wire in every answer is required (``null`` when empty);
- a request's optional field is not required and declares no ``default`` (a generated
  client would make it required), null or not;
- a request's read-only fields (what a client may send back as it read it) are allowed by
  name in ``patternProperties``, not declared in ``properties``: a generated client's request
  models then have no such field to fill, and the document still says they are taken.
"""

import re
from typing import Any

import msgspec
from msgspec import inspect

from gateway.rest.contract import fields
from gateway.rest.contract import requests as q
from gateway.rest.contract import responses as r
from gateway.rest.contract.enums import NAMED_ENUMS
from gateway.rest.contract.operations import OPERATIONS

REF = "#/components/schemas/{name}"


def _on_the_wire(node: Any) -> Any:
    """msgspec's schema as this API's wire has it: a Decimal is a JSON number (a request may
    also send a string of digits: those fields say so with ``anyOf``), a single boolean is a
    typed ``const``, and a docstring is one paragraph of plain text."""
    if isinstance(node, dict):
        node = {key: _on_the_wire(value) for key, value in node.items()}
        if node.get("format") == "decimal":
            del node["format"]
            if "anyOf" in node:
                del node["type"]
            else:
                node["type"] = "number"
        if [type(value) for value in node.get("enum", ())] == [bool]:  # Literal[True]: a constant, typed
            node = {**{k: v for k, v in node.items() if k != "enum"}, "type": "boolean", "const": node["enum"][0]}
        if isinstance(node.get("pattern"), str):
            node["pattern"] = fields.expand(node["pattern"])
        if "anyOf" in node and "discriminator" in node:  # a tagged union: exactly one member matches
            node["oneOf"] = node.pop("anyOf")
        one = node.get("enum")
        if isinstance(one, list) and len(one) == 1 and isinstance(one[0], str):  # a tag: one value, typed
            node = {**{k: v for k, v in node.items() if k != "enum"}, "type": "string", "const": one[0]}
        if isinstance(node.get("description"), str):
            node["description"] = " ".join(node["description"].replace("``", "`").split())
        return node
    if isinstance(node, list):
        return [_on_the_wire(item) for item in node]
    return node


_ENUM_NAMES = {frozenset(named.values): named.name for named in NAMED_ENUMS}  # msgspec sorts a Literal's


def _named(node: Any) -> Any:
    """``node`` with every closed set of values the contract names replaced by a reference to
    its schema (a field's own description stays beside the reference, as OpenAPI 3.1 allows)."""
    if isinstance(node, dict):
        node = {key: _named(value) for key, value in node.items()}
        name = _ENUM_NAMES.get(frozenset(node.get("enum", ())))
        if name is not None:
            kept = {key: value for key, value in node.items() if key not in ("enum", "type", "title")}
            return {"$ref": REF.format(name=name), **kept}
        return node
    if isinstance(node, list):
        return [_named(item) for item in node]
    return node


def _structs(kinds: list[Any]) -> dict[str, type[msgspec.Struct]]:
    """The Structs among ``kinds`` and every Struct they are made of, by component name."""
    found: dict[str, type[msgspec.Struct]] = {}

    def visit(info: inspect.Type) -> None:
        if isinstance(info, inspect.Metadata):
            visit(info.type)
        elif isinstance(info, inspect.UnionType):
            for member in info.types:
                visit(member)
        elif isinstance(info, inspect.ListType):
            visit(info.item_type)
        elif isinstance(info, inspect.StructType) and info.cls.__name__ not in found:
            found[info.cls.__name__] = info.cls
            for part in info.fields:
                visit(part.type)

    for kind in kinds:
        visit(inspect.type_info(kind))
    return found


def _require_what_is_always_sent(schema: dict[str, Any], kind: type[msgspec.Struct]) -> None:
    """A response field with a default is still on the wire in every answer (``null`` when
    empty) unless its default is UNSET or the Struct omits defaults: such a field is
    required, so a generated client types it as always there."""
    config = kind.__struct_config__
    omits = config.omit_defaults
    tag = [config.tag_field] if config.tag_field is not None else []  # a tagged Struct's tag is always sent
    schema["required"] = tag + [
        field.encode_name
        for field in msgspec.structs.fields(kind)
        if field.required or (not omits and field.default is not msgspec.UNSET)
    ]
    for name in schema["required"]:  # a default says what a reader assumes when a field is absent: never here
        schema["properties"][name].pop("default", None)


def _optional_without_default(schema: dict[str, Any]) -> None:
    """A request's optional field is left out of ``required`` and declares no ``default``:
    generators type a field with a default as always there (openapi-typescript's
    defaultNonNullable), so ``"default": null`` made ``to``, ``date`` or ``reason`` required
    in a typed client. What leaving one out means stays in words (``Default: false.``); a
    field that takes null still says so in its ``anyOf``."""
    required = set(schema.get("required", ()))
    for name, field in schema.get("properties", {}).items():
        if "default" not in field or name in required:
            continue
        default = field.pop("default")
        if default is not None:
            said = f"Default: {msgspec.json.encode(default).decode()}."
            field["description"] = f"{field['description']} {said}" if field.get("description") else said


def _read_only_by_name(schema: dict[str, Any], kind: type[q.Body]) -> None:
    """A request's read-only fields moved from ``properties`` to ``patternProperties``, each
    under a pattern matching its name alone: still taken (``additionalProperties`` is false),
    never a field a generated request model offers to set."""
    names = q.read_only_fields(kind)
    if not names:
        return
    properties: dict[str, Any] = schema["properties"]
    schema["patternProperties"] = {f"^{re.escape(name)}$": properties.pop(name) for name in sorted(names)}


def schemas() -> dict[str, Any]:
    """Every Struct the operations name, those they are made of, and the named enums."""
    kinds: list[Any] = [r.Problem]
    for operation in OPERATIONS:
        kinds += [kind for kind in (operation.answer, operation.body) if isinstance(kind, type)]
    unique = list(dict.fromkeys(kinds))
    _, components = msgspec.json.schema_components(unique, ref_template=REF)
    found: dict[str, Any] = _named(_on_the_wire(components))
    for kind in unique:  # what a Struct's fields cannot say alone: rules across fields
        found[kind.__name__].update(getattr(kind, "schema_extra", {}))
    for name, kind in _structs(unique).items():
        if issubclass(kind, r.Shape):
            _require_what_is_always_sent(found[name], kind)
        elif issubclass(kind, q.Body):
            _optional_without_default(found[name])
            _read_only_by_name(found[name], kind)
    for named in NAMED_ENUMS:
        found[named.name] = named.schema()
    return dict(sorted(found.items()))
