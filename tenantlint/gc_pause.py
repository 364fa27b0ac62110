"""The cyclic garbage collector, paused while tenantlint builds many small objects.

Parsing and following code allocate millions of syntax-tree nodes and facts that form
no reference cycles. With the collector on, every few hundred thousand allocations it
traverses the whole heap, and the heap is large by then (the catalog, the summarized
files' trees): on Django's tree this doubled the summary pass (8.5 s -> 4 s without).
CPython's own advice for such phases is to pause it.

What such a pass leaves alive (the catalog) lives as long as a one-shot command: the
command `keep`s it, frozen (`gc.freeze`) before the collector is on again, else the
first collections traverse all of it, young as it looks to the collector (0.5 s after
Django's catalog). Only a process that ends with the scan may: frozen, what it no
longer uses is never collected (a long-running server, or the test suite, building
catalogs again would only grow)."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused(keep: bool = False) -> Iterator[None]:
    """The collector off inside, back to what it was after (nests). With `keep` (a
    process that ends soon after), what is alive at the end is frozen first."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if was_enabled:
            gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """Everything alive frozen inside (a forked child's collector then skips the
    inherited heap instead of traversing it, and copying its pages, again and again);
    after, as it was: what was frozen before stays frozen."""
    before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not before:
            gc.unfreeze()
