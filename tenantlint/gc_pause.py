"""The cyclic garbage collector, paused while tenantlint builds many small objects.

Parsing and following code allocate millions of syntax-tree nodes and facts that form
no reference cycles. With the collector on, every few hundred thousand allocations it
traverses the whole heap, and the heap is large by then (the catalog, the summarized
files' trees): on Django's tree this doubled the summary pass (8.5 s -> 4 s without).
CPython's own advice for such phases is to pause it; the cycles left (few) are collected
by the next collection once it is on again."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """The collector off inside, back to what it was after (nests)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
