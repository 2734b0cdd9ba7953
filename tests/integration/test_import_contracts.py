"""The house's import contracts (`.importlinter` at the repository's root), run by
import-linter as a developer runs it (`lint-imports`): the packages form layers; no
package's modules import each other in a circle; inside gateway, the command line, the app,
the doors, the HTTP wrapping, the composition root and the settings are layers too; and the
doors reach the store only through the use cases. A broken contract fails here with
import-linter's own report of each import."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    assert parser.read(CONFIG, encoding="utf-8") == [str(CONFIG)]
    return parser


def _words(text: str) -> list[str]:
    return [word for line in text.splitlines() for word in line.replace("|", " ").replace(":", " ").split() if word]


def test_every_contract_is_kept():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "lint-imports is missing: pip install -e '.[test]' installs import-linter"
    done = subprocess.run(
        [command, "--no-cache", str(CONFIG)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_package_of_the_project_is_in_the_contracts():
    """A package added beside the others is placed in a layer, not left out of every check."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
    config = _config()
    roots = set(_words(config["importlinter"]["root_packages"]))
    assert roots == packages
    layered = {word.strip("()") for word in _words(config["importlinter:contract:layers"]["layers"])}
    assert {name.split(".")[0] for name in layered} == packages
    # database is laid out by module (its revisions sit above storage and projections, its
    # plumbing below them): every module of it is placed, so a new one is not left out.
    database = {f"database.{path.stem}" for path in (ROOT / "database").glob("*.py") if path.stem != "__init__"}
    database |= {f"database.{path.parent.name}" for path in (ROOT / "database").glob("*/__init__.py")}
    assert {name for name in layered if name.startswith("database.")} == database
    acyclic = set(_words(config["importlinter:contract:acyclic"]["ancestors"]))
    assert acyclic == packages
