"""schema.graphql as graphql-schema-linter reads it: every default rule, no finding.

The linter comes from npm, pinned, installed by ``.ci/run`` into ``.venv/npm`` beside the other
outside checkers (its peer ``graphql`` is the one graphql-http uses). It reads the repository's
``.graphql-schema-linterrc.yml``, as it would for anybody running it at the repository's root;
that file turns no rule off and ignores one rule, enum-values-all-caps, for the enums whose
values are the REST door's wire strings (gateway/graphql/enums.py's WIRE_STRING_ENUMS: renaming
them would break every answer carrying one). The tests below hold that exemption to exactly
those enums and that rule, and show the linter still finds what it is asked to.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphql

from gateway.graphql.enums import WIRE_STRING_ENUMS
from gateway.graphql.schema import build_schema
from gateway.graphql.sdl import sdl
from tests.outside_tools import missing

ROOT = Path(__file__).resolve().parents[2]
LINTER_VERSION = "3.0.1"  # .ci/run installs this one
GRAPHQL_JS_VERSION = "16.11.0"  # its peer dependency, shared with graphql-http
MODULES = ROOT / ".venv" / "npm" / "node_modules"
COMMAND = MODULES / ".bin" / "graphql-schema-linter"
INSTALL = f"npm install --prefix .venv/npm graphql-schema-linter@{LINTER_VERSION} graphql@{GRAPHQL_JS_VERSION}"
EXEMPT = sorted(enum.__name__ for enum in WIRE_STRING_ENUMS)


def node() -> str:
    found = shutil.which("node")
    if found is None or not COMMAND.exists():
        missing("graphql-schema-linter or node", INSTALL)
    return found


def lint(schema: Path, config_directory: Path) -> list[dict[str, Any]]:
    """The linter's findings on ``schema``, under its default rules and the configuration it
    finds from ``config_directory`` up (``--config-directory``, as the linter searches)."""
    node()
    run = subprocess.run(
        [str(COMMAND), "--format", "json", "--config-directory", str(config_directory), str(schema)],
        cwd=config_directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 0: nothing found, 1: findings; anything else (2: a bad configuration) is not a lint
    assert run.returncode in (0, 1) and run.stdout.strip(), run.stdout + run.stderr
    errors: list[dict[str, Any]] = json.loads(run.stdout)["errors"]
    assert (run.returncode == 0) == (errors == []), run.stdout
    return errors


def without_exemption(where: Path) -> Path:
    """A configuration directory whose file ignores nothing: the default rules as they come."""
    (where / ".graphql-schema-linterrc.yml").write_text("ignore: {}\n", encoding="utf-8")
    return where


def described(errors: list[dict[str, Any]]) -> list[str]:
    return [f"{error['location']['line']}: {error['message']} ({error['rule']})" for error in errors]


def test_schema_graphql_passes_every_default_rule() -> None:
    assert described(lint(ROOT / "schema.graphql", ROOT)) == []


def test_the_configuration_ignores_one_rule_for_the_wire_string_enums_only() -> None:
    """What the linter itself loads from the repository's file (its own loader, run by node)."""
    script = (
        "const {loadOptionsFromConfigDir} = require('graphql-schema-linter/lib/options.js');"
        "process.stdout.write(JSON.stringify(loadOptionsFromConfigDir(process.argv[1])));"
    )
    run = subprocess.run(
        [node(), "-e", script, str(ROOT)],
        env={"NODE_PATH": str(MODULES), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    loaded = json.loads(run.stdout)
    assert "rules" not in loaded  # no rule list: every default rule runs
    assert loaded["rulesOptions"] == {} and loaded["customRulePaths"] == [] and loaded["schemaPaths"] == []
    assert loaded["ignore"] == {"enum-values-all-caps": EXEMPT}
    served = graphql.build_schema(sdl())
    for name in EXEMPT:
        assert isinstance(served.get_type(name), graphql.GraphQLEnumType), name


def test_without_the_exemption_only_the_wire_string_enums_values_are_found(tmp_path: Path) -> None:
    """The exemption is needed, and covers nothing else: with it removed, every finding is
    enum-values-all-caps, on a value of one of those enums, and every such value is found."""
    errors = lint(ROOT / "schema.graphql", without_exemption(tmp_path))
    assert {error["rule"] for error in errors} == {"enum-values-all-caps"}, described(errors)
    found = {error["message"].split("`")[1] for error in errors}
    assert found == {f"{enum.__name__}.{member.value}" for enum in WIRE_STRING_ENUMS for member in enum}


def test_the_linter_finds_what_it_is_asked_to(tmp_path: Path) -> None:
    """The clean lint is not vacuous: under the repository's configuration, a type with its
    fields out of order, an input likewise, an enum with a lower-case value out of order, and a
    connection type without edges, all in the schema, are each reported."""
    spoiled = sdl() + (
        '\n"""Spoiled."""\ntype Spoiled {\n  """Z."""\n  zeta: Int\n  """A."""\n  alpha(\n'
        '    """Filter."""\n    filter: SpoiledInput\n  ): SpoiledEnum\n'
        '  """C."""\n  items: SpoiledConnection\n}\n\n'
        '"""Spoiled."""\ninput SpoiledInput {\n  """Z."""\n  zeta: Int\n  """A."""\n  alpha: Int\n}\n\n'
        '"""Spoiled."""\nenum SpoiledEnum {\n  """Z."""\n  zeta\n  """A."""\n  ALPHA\n}\n\n'
        '"""Spoiled."""\ntype SpoiledConnection {\n  """P."""\n  pageInfo: PageInfo!\n}\n\n'
        'extend type Query {\n  """S."""\n  spoiled: Spoiled\n}\n'
    )
    (tmp_path / "schema.graphql").write_text(spoiled, encoding="utf-8")
    (tmp_path / ".graphql-schema-linterrc.yml").write_bytes((ROOT / ".graphql-schema-linterrc.yml").read_bytes())
    rules = {error["rule"] for error in lint(tmp_path / "schema.graphql", tmp_path)}
    assert {
        "type-fields-sorted-alphabetically",
        "input-object-fields-sorted-alphabetically",
        "enum-values-sorted-alphabetically",
        "enum-values-all-caps",
        "relay-connection-types-spec",
        "relay-connection-arguments-spec",
    } <= rules, rules


def test_the_sorted_sdl_is_the_schema_the_code_serves() -> None:
    """Sorting changes the printed order only: the full introspection of the code's schema
    and of the SDL read back are the same once each list is put in name order (types, fields,
    arguments, enum values, directives, descriptions and defaults all compared)."""
    query = graphql.get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    served = build_schema().execute_sync(query)
    written = graphql.graphql_sync(graphql.build_schema(sdl()), query)
    assert served.errors is None and written.errors is None
    assert by_name(served.data) == by_name(written.data)


def by_name(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: by_name(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [by_name(item) for item in value]
        if all(isinstance(item, dict) and "name" in item for item in items):
            items.sort(key=lambda item: item["name"])
        return items
    return value


def test_ci_installs_the_pinned_linter() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"graphql-schema-linter@{LINTER_VERSION}" in run and f"graphql@{GRAPHQL_JS_VERSION}" in run
