"""The HTTP wrapping of every door: guard, auth, rate limits, idempotency, timeouts, framing,
compression, CORS, JSON in and out, error mapping, request logs, health.
"""
