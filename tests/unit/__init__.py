"""Unit tier: no files, no sockets, no processes (tests/README.md)."""
