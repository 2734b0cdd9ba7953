"""Writes the schema's SDL: ``python -m gateway.graphql.sdl [FILE]`` (default: schema.graphql
in the current folder). A test fails while the repository's copy differs from the code."""

import sys
from pathlib import Path

from gateway.graphql.schema import build_schema


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "schema.graphql")
    target.write_text(build_schema().as_str() + "\n", encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
