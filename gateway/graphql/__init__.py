"""The GraphQL door (strawberry-graphql), beside REST over the same use cases.

Its infrastructure, each module with what a README needs in its docstring:

- ``limits``: query cost, depth, alias, token and batch limits, and introspection on/off,
  checked before anything executes; the cost reported in every response.
- ``errors``: ``extensions.code`` on every error, faults masked and logged; requests the
  endpoint cannot read refused in the same JSON shape.
- ``graphiql``: GraphiQL in a browser at ``GET /graphql``, its assets served locally.
"""
