"""End-to-end tier: real serve and worker processes, Chromium, SMTP, Node tools (tests/README.md)."""
