"""The programmatic entry point: what `tenantlint scan` does, minus printing."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from tenantlint.checked_settings import load_checked_settings
from tenantlint.config import Settings
from tenantlint.diagnostics import Report


def scan_paths(paths: Sequence[str | Path], *, config: str | Path | None = None, cwd: Path | None = None,
               settings: Settings | None = None, jobs: int = 1, warn_unused_ignores: bool = False,
               use_cache: bool = False, root: Path | None = None) -> Report:
    """`root` sets the project root where the caller knows better than the repository
    around the config (an example project kept inside another repository, as the test
    fixtures are)."""
    from dataclasses import replace

    from tenantlint.discover import build_catalog
    from tenantlint.engine import scan
    from tenantlint.files import collect

    cwd = Path(cwd or Path.cwd())
    if settings is None:
        settings = load_checked_settings(Path(config) if config else None, cwd=cwd, targets=list(paths) or ["."])
    if root is not None:
        settings = replace(settings, root=Path(root).resolve())
    files = collect([str(p) for p in paths] or ["."], settings, cwd=cwd)
    catalog = build_catalog(settings, use_cache=use_cache, jobs=jobs)
    return scan(files, settings, catalog, jobs=jobs, warn_unused_ignores=warn_unused_ignores, use_cache=use_cache)
