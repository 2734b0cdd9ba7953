"""Integration tier: one process, real stores, the app in-process (tests/README.md)."""
