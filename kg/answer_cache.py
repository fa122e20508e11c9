"""Answers kept per database state: the same question asked again before anything is committed is
answered from memory.

An answer (a kg.queries function's value for its arguments) is a function of the graph alone, so it
stays true for as long as the database has committed nothing since it was read. The database's state
is the bookmark of an empty read (``Graph.committed``: Neo4j names the last transaction a read saw);
an answer is kept only when the state before and after reading it is the same (nothing was committed
while it was read, so it is the answer of exactly that state), and given again only to a caller
that finds the database in that state. Any commit (a load, a match, a curation, another process's
write) therefore retires every kept answer at once: coarse, but right by construction, with no
write path having to remember to invalidate anything.

What a caller gets is the kept object itself, shared between callers: answers are read, never
changed in place (kg.queries' answer dataclasses; the API converts them into new GraphQL objects).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar, cast

T = TypeVar("T")


@dataclass
class CacheCounts:
    """How the cache has answered so far (for /metrics and the benchmarks)."""

    hits: int = 0
    misses: int = 0
    kept: int = 0
    not_kept: int = 0  # read while something was committed: given once, not kept


class AnswerCache:
    """At most ``max_entries`` answers (least recently asked dropped first), each with the database
    state it was read in. Safe to use from several threads: two asking the same question in the same
    state read it once (the second waits for the first)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.counts = CacheCounts()
        self._kept: OrderedDict[Hashable, tuple[str, Any]] = OrderedDict()
        self._reading: dict[tuple[Hashable, str], Future[Any]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def answer(self, key: tuple[Hashable, ...], state: str, read: Callable[[], T], committed: Callable[[], str]) -> T:
        """The answer kept for ``key`` in ``state``, else ``read()``, kept if ``committed()`` still
        gives ``state`` after it. A key that cannot be hashed is read and not kept."""
        try:
            hash(key)
        except TypeError:
            return read()
        with self._lock:
            found = self._kept.get(key)
            if found is not None and found[0] == state:
                self._kept.move_to_end(key)
                self.counts.hits += 1
                return cast(T, found[1])
            waiting = self._reading.get((key, state))
            if waiting is None:
                mine: Future[Any] = Future()
                self._reading[(key, state)] = mine
            self.counts.misses += 1
        if waiting is not None:
            return cast(T, waiting.result())
        try:
            value = read()
            unchanged = committed() == state
        except BaseException as err:
            mine.set_exception(err)
            raise
        finally:
            with self._lock:
                self._reading.pop((key, state), None)
        with self._lock:
            if unchanged and self.max_entries > 0:
                self._kept[key] = (state, value)
                self._kept.move_to_end(key)
                while len(self._kept) > self.max_entries:
                    self._kept.popitem(last=False)
                self.counts.kept += 1
            else:
                self.counts.not_kept += 1
        mine.set_result(value)
        return value
