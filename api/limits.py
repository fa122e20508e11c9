"""Limits on what one request may ask: its arguments (length, characters, list sizes) and how many
requests one identity may send (issue 9, "Limits").

``check_arguments`` is the one validator of every string a GraphQL operation carries: each string
literal among its arguments (input objects and lists included) and each string in its variables.
It runs once per operation, before execution (``ArgumentLimits``), so no resolver sees a string it
did not check. Names carry the limit: free text (a curator's statement, a comment) may be long and
hold line breaks; everything else (ids, names, queries) is short and on one line.

``RateLimiter`` counts requests per identity in a moving window, in memory (one process; several
processes would share a storage such as Redis, which the `limits` library, parsing the limit here, speaks).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    ExecutionResult,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor
from limits import parse
from starlette.types import Scope
from strawberry.extensions import SchemaExtension

from api.errors import coded_error
from kg.config import Settings

#: Arguments and input fields that hold free text rather than an id or a name.
TEXT_ARGUMENTS = frozenset({"statement", "comment"})
MAX_LIST_ITEMS = 200  # any list argument: relationship types, PubMed ids, ...

# Never in any argument: C0 controls (tab and line breaks only in free text), DEL, C1 controls,
# lone surrogates (JSON can carry them; Neo4j and UTF-8 cannot) and the non-characters U+FFFE/U+FFFF.
_NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


@dataclass(frozen=True)
class ArgumentError(ValueError):
    name: str
    problem: str

    def __str__(self) -> str:
        return f"argument {self.name!r}: {self.problem}"


def check_string(name: str, value: str, settings: Settings) -> None:
    """Length and characters of one string argument named ``name`` (an argument or input field)."""
    text = name in TEXT_ARGUMENTS
    limit = settings.max_text_length if text else settings.max_argument_length
    if len(value) > limit:
        raise ArgumentError(name, f"at most {limit} characters allowed, found {len(value)}")
    bad = _NEVER.search(value) or (None if text else _LINE_BREAKS.search(value))
    if bad:
        raise ArgumentError(name, f"control or invalid character U+{ord(bad.group()):04X} at {bad.start()}")


def check_value(name: str, value: Any, settings: Settings) -> None:
    """Every string in a variable's value (input objects: each field under its own name)."""
    if isinstance(value, str):
        check_string(name, value, settings)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_string("field name", str(key), settings)
            check_value(str(key), item, settings)
    elif isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST_ITEMS:
            raise ArgumentError(name, f"at most {MAX_LIST_ITEMS} items allowed, found {len(value)}")
        for item in value:
            check_value(name, item, settings)


def _literals(name: str, node: ValueNode) -> Iterator[tuple[str, ValueNode]]:
    """(name, node) for every string literal and variable reference within an argument's value."""
    if isinstance(node, (StringValueNode, VariableNode)):
        yield name, node
    elif isinstance(node, ListValueNode):
        if len(node.values) > MAX_LIST_ITEMS:
            raise ArgumentError(name, f"at most {MAX_LIST_ITEMS} items allowed, found {len(node.values)}")
        for item in node.values:
            yield from _literals(name, item)
    elif isinstance(node, ObjectValueNode):
        for field in node.fields:
            yield from _literals(field.name.value, field.value)


class _Arguments(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, ValueNode]] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.found.extend(_literals(node.name.value, node.value))

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> Any:
        return False  # reached through their argument


#: Document object -> its string arguments (``_string_arguments``), the most recent first out.
_FOUND: OrderedDict[int, tuple[Any, list[tuple[str, ValueNode]]]] = OrderedDict()
FOUND_CACHE_SIZE = 256  # as many as the schema's parser cache keeps (api/schema.py DOCUMENT_CACHE_SIZE)


def _string_arguments(document: Any) -> list[tuple[str, ValueNode]]:
    """(name, node) of every string literal and variable reference among the document's arguments, kept per
    document object: the schema's ParserCache hands the same object for the same query text, so a query asked
    again is not walked again (the walk was most of this check's time, ~0.1-0.2 ms a request)."""
    kept = _FOUND.get(id(document))
    if kept is not None and kept[0] is document:
        return kept[1]
    collector = _Arguments()
    visit(document, collector)
    _FOUND[id(document)] = (document, collector.found)  # holding the document keeps its id its own
    if len(_FOUND) > FOUND_CACHE_SIZE:
        _FOUND.popitem(last=False)
    return collector.found


def check_arguments(document: Any, variables: Mapping[str, Any] | None, settings: Settings) -> None:
    """Raise :class:`ArgumentError` for the first string argument (literal or variable) over its limits."""
    variables = variables or {}
    for name, node in _string_arguments(document):
        if isinstance(node, StringValueNode):
            check_string(name, node.value, settings)
        elif isinstance(node, VariableNode) and node.name.value in variables:
            check_value(name, variables[node.name.value], settings)
    for var, value in variables.items():  # unused variables too: nothing unchecked reaches the server
        check_value(var, value, settings)


class ArgumentLimits(SchemaExtension):
    """Runs :func:`check_arguments` before execution; a refusal is the operation's only error, BAD_INPUT."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        try:
            check_arguments(ctx.graphql_document, ctx.variables, self.settings)
        except ArgumentError as err:
            ctx.result = ExecutionResult(data=None, errors=[coded_error(str(err), "BAD_INPUT")])
        yield


# --- rate limits -----------------------------------------------------------------------------


def rate_key(scope: Scope) -> str:
    """Whom a request counts against: the verified identity when the auth layer has put one on
    ``request.state.identity`` (its ``subject``, else its text), otherwise the client address."""
    identity = (scope.get("state") or {}).get("identity")
    if identity is not None:
        return "id:" + str(getattr(identity, "subject", None) or identity)
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimiter:
    """``settings.rate_limit`` requests per identity (e.g. ``300/minute``), a moving window in memory: per key,
    the times of its requests within the window (at most the limit). The `limits` library parses the limit;
    its memory storage is not used: it started a timer thread for almost every request (0.3 ms median, 2 ms
    at p90 on a busy machine, bench/bench_api.py's one-drug question)."""

    SWEEP_EVERY = 10_000  # requests between sweeps of keys whose window emptied

    def __init__(self, settings: Settings) -> None:
        self.limit = parse(settings.rate_limit)
        self.amount, self.window = self.limit.amount, float(self.limit.get_expiry())
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()
        self.calls = 0

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            self.calls += 1
            if self.calls % self.SWEEP_EVERY == 0:
                self.hits = {k: q for k, q in self.hits.items() if q and q[-1] > now - self.window}
            times = self.hits.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.amount:
                return False
            times.append(now)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may send again (at least 1)."""
        with self.lock:
            times = self.hits.get(key)
            oldest = times[0] if times else None
        return 1 if oldest is None else max(1, int(oldest + self.window - time.monotonic()) + 1)
