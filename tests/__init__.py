"""Behaviour tests; a package so helpers import as tests.conftest under any runner."""
