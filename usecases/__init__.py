"""The use cases both doors call: REST and GraphQL parse, call one of these, and render.

Every command and query the API offers lives here once, with typed inputs, the checks
that do not depend on a wire format, read-your-writes, and domain errors that carry a
machine code. Nothing here knows HTTP or GraphQL.
"""
