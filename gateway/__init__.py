"""The doors: Starlette REST app, auth, rate limits, error mapping and the command line."""
