"""Checkers this project does not ship (npm packages, a browser): CI installs them
(``.ci/run``), so there a missing one fails its test; on any other machine the test skips
and says how to install it, so the README's test command runs where only Python is."""

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("CLEVERINVO_REDOCLY"))


def missing(what: str, install: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{what} is missing (CI runs it): {install}")
    pytest.skip(f"{what} is not installed: {install}")
