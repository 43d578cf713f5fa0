"""Count the SQL statements an engine runs: the query-budget tests and the benchmark's bench mode use this."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class StatementCounter:
    """Statements seen since the counter was started; keeps their text so a failing budget can show them."""

    statements: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        """The before_cursor_execute listener: one call per statement sent to the database."""
        with self._lock:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        """Forget what was counted so far."""
        with self._lock:
            self.statements.clear()

    def report(self, limit: int = 40) -> str:
        """The first `limit` statements, numbered, one per line (for assertion messages)."""
        lines = [f"{n:3d}. {' '.join(s.split())[:240]}" for n, s in enumerate(self.statements[:limit], 1)]
        if self.count > limit:
            lines.append(f"... and {self.count - limit} more")
        return "\n".join(lines)


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementCounter]:
    """Within the block, every statement run on the engine (any connection, any thread) is counted."""
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


class PerRequestCounter:
    """Counts statements per request in a server process: a thread-local tally the app reads after each request.

    Listening costs a function call per statement, so it is attached only in bench mode (never in production).
    """

    def __init__(self, engine: Engine) -> None:
        self._local = threading.local()
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._local.count = getattr(self._local, "count", 0) + 1

    def start(self) -> None:
        """Begin a new request's tally."""
        self._local.count = 0

    def current(self) -> int:
        """Statements counted since start() in this thread."""
        return getattr(self._local, "count", 0)
