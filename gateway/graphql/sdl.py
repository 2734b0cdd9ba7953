"""Writes the schema's SDL: ``python -m gateway.graphql.sdl [FILE]`` (default: schema.graphql
in the current folder). A test fails while the repository's copy differs from ``sdl()``.

The SDL is the code's schema printed in lexicographic order (types, fields, arguments, input
fields and enum values sorted by name), so a reader finds a field where a dictionary would put
it and graphql-schema-linter's sorting rules hold. Only the printed order differs from what the
service answers: introspection keeps the code's order, and GraphQL gives order no meaning in a
schema (a selection set, not the schema, decides the order of an answer's fields).
"""

import sys
from pathlib import Path

from graphql import build_schema as parse_sdl
from graphql import lexicographic_sort_schema, print_schema

from gateway.graphql.schema import build_schema


def sdl() -> str:
    """The text of schema.graphql: the code's schema, sorted, with a final newline.

    It goes through strawberry's own printing (the public ``as_str``), read back by
    graphql-core and sorted, so what is sorted is exactly what strawberry would print."""
    printed = build_schema().as_str()
    return print_schema(lexicographic_sort_schema(parse_sdl(printed))) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "schema.graphql")
    target.write_text(sdl(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
