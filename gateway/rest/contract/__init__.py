"""The REST contract, declared once as msgspec Structs.

- ``fields``: the wire types every shape is made of (numbers, dates, texts with their caps);
- ``requests``: what a client sends, and how it becomes a use case's typed input;
- ``decoding``: a JSON object checked against a request Struct, in the contract's words;
- ``responses``: what the API answers, encoded by msgspec (``encoding``);
- ``operations`` and ``openapi``: the route table and the OpenAPI 3.1 document built from
  both, served at ``GET /api/v1/openapi.json``; ``docs``: Swagger UI for it at ``/docs``.
"""
