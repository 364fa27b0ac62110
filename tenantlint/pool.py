"""Checking files on several processes: libcst holds the GIL, so threads don't help.
Results come back in input order, so output is deterministic whatever the timing."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

from tenantlint.catalog import TenantCatalog
from tenantlint.config import Settings

_STATE: dict = {}


def _init(settings: Settings, catalog: TenantCatalog) -> None:
    _STATE["settings"] = settings
    _STATE["catalog"] = catalog


def _work(path: Path):
    from tenantlint.engine import check_file

    return check_file(path, _STATE["settings"], _STATE["catalog"])


def check_in_pool(paths: Sequence[Path], settings: Settings, catalog: TenantCatalog, jobs: int) -> Iterator:
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(settings, catalog)) as pool:
        yield from pool.map(_work, paths, chunksize=max(1, min(16, len(paths) // (jobs * 4) or 1)))
