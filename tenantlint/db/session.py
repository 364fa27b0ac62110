"""One explicit transaction that always ends in ROLLBACK, on a psycopg 3 connection."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, without importing psycopg


@contextmanager
def rolled_back(conn: Any, *, read_only: bool) -> Iterator[None]:
    """Run the block inside `BEGIN [READ ONLY]` ... `ROLLBACK`, whatever happens.

    The connection must not be inside a transaction of the caller's (we would not know
    what rolling back would throw away): a ValueError says so."""
    if conn.info.transaction_status != IDLE:
        raise ValueError("the connection is inside a transaction; commit or roll it back first")
    autocommit = conn.autocommit
    conn.autocommit = True  # we issue BEGIN/ROLLBACK ourselves
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" + (" READ ONLY" if read_only else ""))
        try:
            yield
        finally:
            if not conn.closed:
                conn.execute("ROLLBACK")
    finally:
        if not conn.closed:
            conn.autocommit = autocommit
