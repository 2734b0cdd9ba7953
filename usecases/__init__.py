"""The application layer: the use cases every door calls (REST, GraphQL, the dashboard, the
share page, the command line). A door parses, calls one of these, and renders.

Every command and query the product offers lives here once, with typed inputs, the checks
that do not depend on a wire format, read-your-writes, and domain errors that carry a
machine code. Nothing here knows HTTP, GraphQL or HTML; what the use cases answer with is
named in ``usecases.views``. The composition root (``gateway.services``) builds
``usecases.service.UseCases`` once per process.
"""
