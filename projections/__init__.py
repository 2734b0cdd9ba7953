"""Read models: SQL tables fed by a tracked projection of the event store, and their queries."""
