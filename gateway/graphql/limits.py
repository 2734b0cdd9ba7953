"""Limits on what one GraphQL request may ask for, all checked before anything executes.

What a README needs (the defaults; each is a field of :class:`GraphQLLimits`):

- **Cost** at most 1,000 per operation (``max_cost``; the service runs with its own budget
  and sizes, ``gateway.graphql.costs``), in the spirit of GitHub's and Shopify's: every
  object the query can return costs 1, the parts of an object (``part_types``) and
  scalars are free. A field that takes a
  ``limit`` argument (``clients``, ``invoices``, ``Client.invoices``, ``events``) may
  return up to ``limit`` (or, when given, its connection argument ``first``) of what it
  selects, so its selection counts that many times (and, when the field is itself a list
  of objects, so do those objects); the value comes from the query, its variables, or the
  field's default. So
  ``{ invoices(limit: 100) { data { id client { name } payments { amount } } } }`` costs
  1 + 100 × (1 + 1 + 1) = 301. Fragments count each time they are spread; aliases and
  repeated fields count each time. A costlier query is refused with code ``BAD_REQUEST``,
  a message that states its cost and the maximum, and ``extensions.cost``; every
  response reports ``"extensions": {"cost": {"requested": N, "maximum": 1000}}``
  (``requested`` is 0 when the document could not even be parsed).
- **Depth** at most 10 nested fields (``{ clients { data { name } } }`` is 3 deep;
  introspection fields are left to graphql-core's ``MaxIntrospectionDepthRule``).
- **Aliases** at most 30 per operation, counted through fragments.
- **Tokens** at most 2,000 per document (the parser stops there).
- **Batches**: a POST body may be a JSON array of at most 5 operations, each limited as
  above and answered in an array in the same order.
- **Introspection** on, unless ``CLEVERINVO_GRAPHQL_INTROSPECTION`` is ``0``, ``false`` or
  ``off``; then ``__schema``/``__type`` are refused and error messages stop suggesting
  field names.

All refusals carry ``extensions.code = "BAD_REQUEST"``.

How it plugs in::

    limits = GraphQLLimits.from_settings(settings)
    schema = CodedSchema(query=Query, ..., extensions=limit_extensions(limits),
                         config=strawberry_config(limits))

The checks are graphql-core validation rules, so they hold for every way an operation
arrives: POST, GET, batches and ``graphql-transport-ws`` subscriptions. Each walks the
operation once, remembering each fragment's measure, so a document of fragments that
spread other fragments many times over is measured in time linear in its size (strawberry's
``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk such a document in time exponential in
its nesting, which is why they are not used here).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    MaxIntrospectionDepthRule,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    VariableValues,
    get_argument_values,
    get_named_type,
    get_nullable_type,
    get_variable_values,
    is_composite_type,
    is_list_type,
    validate,
)
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import BatchingConfig, StrawberryConfig

from gateway.settings import Settings

ExtensionFactory = Callable[[], SchemaExtension]


@dataclass(frozen=True)
class GraphQLLimits:
    """What one GraphQL request may ask for. Every field is a constructor argument."""

    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_operations: int = 5  # in one batched request (a JSON array body)
    max_cost: int = 1_000
    introspection: bool = True
    size_argument: str = "limit"  # the argument that says how many items a field returns
    # Arguments that, given a number, say it instead (a connection's `first`).
    size_overrides: tuple[str, ...] = ("first",)
    # The size assumed for a `limit` that is null, or absent with no default.
    unbounded_size: int = 100
    # Sizes assumed for list fields that take no `limit`, by "Type.field" (say
    # {"Invoice.history": 50}); such a list not named here counts as one.
    list_sizes: Mapping[str, int] = field(default_factory=dict)
    # Types whose objects are parts of the object that holds them, read with it and never on
    # their own (an invoice's lines, an event's actor, a page's pageInfo): they count 0 each,
    # and what they select counts as usual.
    part_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_aliases", "max_tokens", "max_operations", "max_cost", "unbounded_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GraphQLLimits.{name} must be a positive integer, not {value!r}")
        for where, size in self.list_sizes.items():
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"GraphQLLimits.list_sizes[{where!r}] must be an integer of 0 or more, not {size!r}")

    @classmethod
    def from_settings(cls, settings: Settings) -> GraphQLLimits:
        """The defaults, with introspection as the settings say."""
        return cls(introspection=settings.graphql_introspection)


@dataclass(frozen=True)
class Measure:
    """The cost, depth and alias count of an operation (or of part of one)."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: Measure) -> Measure:
        """Two selections side by side: costs and aliases add up, the deeper one counts."""
        return Measure(self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases)


NOTHING = Measure()


class _Measurer:
    """Measures selections of one document for one request's variables."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: VariableValues | None, limits: GraphQLLimits
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.measured: dict[str, Measure] = {}
        self.measuring: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(operation.operation)
        return self.selections(operation.selection_set, root)

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Measure:
        total = NOTHING
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Measure:
        """A fragment's measure, taken once however often it is spread. Unknown fragments
        and cycles measure nothing here: validation refuses them on its own."""
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.measuring:
            return NOTHING
        self.measuring.add(name)
        measure = self.selections(fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value))
        self.measuring.discard(name)
        self.measured[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        name = node.name.value
        definition = self.definition(parent, name)
        returns = get_named_type(definition.type) if definition else None
        inner = self.selections(node.selection_set, returns)
        aliases = inner.aliases + (1 if node.alias else 0)
        # Introspection's own nesting is MaxIntrospectionDepthRule's to judge.
        depth = 0 if name.startswith("__") else 1 + inner.depth
        if definition is None or parent is None or not is_composite_type(returns):
            return Measure(0, depth, aliases)  # a scalar, or a field validation refuses anyway
        size = self.size(node, definition, f"{parent.name}.{name}")
        weight = 0 if returns is not None and returns.name in self.limits.part_types else 1
        items = weight * (size if is_list_type(get_nullable_type(definition.type)) else 1)
        return Measure(items + size * inner.cost, depth, aliases)

    def definition(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is not None and parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        found: GraphQLField | None = None
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            found = parent.fields.get(name)
        return found

    def size(self, node: FieldNode, definition: GraphQLField, where: str) -> int:
        """How many items the field may return: its `first` when given, else its `limit`, as
        the query, the variables or the field's default set it, else the size assumed for it."""
        names = [name for name in (*self.limits.size_overrides, self.limits.size_argument) if name in definition.args]
        if not names:
            return self.limits.list_sizes.get(where, 1)
        try:
            values = get_argument_values(definition, node, self.variables)
        except GraphQLError:  # a wrong value: refused by validation or by execution itself
            return self.limits.unbounded_size
        for name in names:
            value = values.get(definition.args[name].out_name or name)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
            if name == self.limits.size_argument:
                break
        return self.limits.unbounded_size


def measure_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    limits: GraphQLLimits | None = None,
) -> Measure:
    """The measure of the operation that will run (the one named, else the first), or of
    the costliest one when none matches. ``schema`` is graphql-core's (``schema._schema``
    of a strawberry schema)."""
    limits = limits or GraphQLLimits()
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if (o.name.value if o.name else None) == operation_name]
    if not chosen and operation_name is None:
        chosen = operations[:1]
    measures = [
        _Measurer(schema, document, _coerced(schema, operation, variables), limits).operation(operation)
        for operation in chosen or operations
    ]
    return max(measures, key=lambda m: m.cost, default=NOTHING)


def _coerced(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> VariableValues | None:
    """The variables as execution will see them (defaults applied), or None when they do
    not coerce (then execution refuses the request before any resolver runs)."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    return None if isinstance(coerced, list) else coerced


def refusals(measure: Measure, limits: GraphQLLimits) -> Iterator[GraphQLError]:
    """The errors for each limit the measure exceeds."""
    if measure.depth > limits.max_depth:
        yield _bad_request(f"Query depth {measure.depth} exceeds the maximum depth of {limits.max_depth}")
    if measure.aliases > limits.max_aliases:
        yield _bad_request(f"The query uses {measure.aliases} aliases; at most {limits.max_aliases} are allowed")
    if measure.cost > limits.max_cost:
        yield _bad_request(
            f"Query cost {measure.cost} exceeds the maximum cost of {limits.max_cost}: "
            f"ask for fewer items (a smaller '{limits.size_argument}') or fewer fields",
            cost=_cost(measure.cost, limits),
        )


def _bad_request(message: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_REQUEST", **extensions})


def _cost(requested: int, limits: GraphQLLimits) -> dict[str, int]:
    return {"requested": requested, "maximum": limits.max_cost}


class _ValidationMemo:
    """graphql-core's validation of a query text by the schema's standard rules, kept for
    the texts seen last: clients send the same few documents again and again, and their
    validation was a quarter of a page query's time. Only the rules that depend on the
    text alone are kept; the limits, which depend on the variables, are checked on every
    request (``QueryLimits.on_validate``)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._seen: OrderedDict[tuple[int, str, tuple[type[ASTValidationRule], ...]], list[GraphQLError]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def errors(
        self, schema: GraphQLSchema, query: str, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        key = (id(schema), query, rules)
        with self._lock:
            found = self._seen.get(key)
            if found is not None:
                self._seen.move_to_end(key)
                return list(found)
        errors = validate(schema, document, rules)
        with self._lock:
            self._seen[key] = errors
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return list(errors)


_VALIDATED = _ValidationMemo()


class QueryLimits(SchemaExtension):
    """Checks one request's operation against the limits before it executes, and reports
    its cost in the response's ``extensions``. A fresh one serves each request."""

    def __init__(self, limits: GraphQLLimits) -> None:
        self.limits = limits
        self.measure: Measure | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.limits.max_tokens
        rules = context.validation_rules
        # graphql-core 3.3 runs MaxIntrospectionDepthRule among its specified rules already.
        guard = () if MaxIntrospectionDepthRule in rules else (MaxIntrospectionDepthRule,)
        context.validation_rules = (*rules, *guard)
        yield

    def on_validate(self) -> Iterator[None]:
        """The standard rules' verdict (remembered per query text), then the limits,
        measured with this request's variables, after them as before."""
        context = self.execution_context
        document, schema = context.graphql_document, context.schema._schema
        if document is None or context.query is None or context.pre_execution_errors is not None:
            yield
            return
        errors = _VALIDATED.errors(schema, context.query, document, tuple(context.validation_rules))
        try:
            self.measure = measure_operation(schema, document, context.variables, context.operation_name, self.limits)
        except RecursionError:  # graphql-core aborts validation before this nests so deep
            errors.append(_bad_request("The query nests too deeply to be measured"))
        else:
            errors.extend(refusals(self.measure, self.limits))
        context.pre_execution_errors = errors
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": _cost(self.measure.cost if self.measure else 0, self.limits)}


def introspection_extensions(enabled: bool) -> list[ExtensionFactory]:
    """Nothing when introspection is on; strawberry's ``DisableIntrospection`` when off."""
    return [] if enabled else [DisableIntrospection]


def limit_extensions(limits: GraphQLLimits) -> list[ExtensionFactory]:
    """The schema extensions that enforce ``limits`` (pass them to ``strawberry.Schema``)."""
    return [functools.partial(QueryLimits, limits), *introspection_extensions(limits.introspection)]


def batching_config(limits: GraphQLLimits) -> BatchingConfig:
    return {"max_operations": limits.max_operations}


def strawberry_config(limits: GraphQLLimits, **options: Any) -> StrawberryConfig:
    """A ``StrawberryConfig`` that takes batches of at most ``max_operations``, and stops
    suggesting field names in errors when introspection is off (they would tell the
    schema anyway). ``options`` are passed on."""
    options.setdefault("disable_field_suggestions", not limits.introspection)
    return StrawberryConfig(batching_config=batching_config(limits), **options)


__all__ = [
    "GraphQLLimits",
    "Measure",
    "QueryLimits",
    "batching_config",
    "introspection_extensions",
    "limit_extensions",
    "measure_operation",
    "refusals",
    "strawberry_config",
]
