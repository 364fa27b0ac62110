"""The tests' one way to write a small project into a folder and scan it, so a test
says only what is in its project and what must be found."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Iterable, Mapping

from tenantlint.api import scan_paths
from tenantlint.diagnostics import Report

TENANT_ID = 'tenant-columns = ["tenant_id"]\n'


def write_project(root: Path, files: Mapping[str, str], config: str | None = TENANT_ID, *,
                  dedent: bool = True) -> Path:
    """`files` (path relative to `root` -> text, dedented unless `dedent=False`) written
    under `root`, folders created, and `config` as `root/tenantlint.toml` (None: left
    as it is). Returns `root`."""
    if config is not None:
        (root / "tenantlint.toml").write_text(config)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if dedent else text)
    return root


def scan_project(root: Path, files: Mapping[str, str] = {}, config: str | None = TENANT_ID, *,
                 paths: Iterable[str] = (".",), dedent: bool = True, **options) -> Report:
    """`write_project`, then `tenantlint scan PATHS` from `root` (options as
    tenantlint.api.scan_paths takes them: jobs, use_cache, ...)."""
    write_project(root, files, config, dedent=dedent)
    return scan_paths(list(paths), cwd=root, **options)


def found(root: Path, *paths: str, **options) -> set[tuple[str, int, str]]:
    """(path, line, code) of each finding of `tenantlint scan PATHS` (default `.`) from `root`."""
    return located(scan_paths(list(paths) or ["."], cwd=root, **options))


def located(report: Report) -> set[tuple[str, int, str]]:
    return {(d.path, d.location.line, d.code) for d in report.diagnostics}


def lines(report: Report) -> list[tuple[int, str]]:
    """(line, code) of each finding, sorted: for a project of one file."""
    return sorted((d.location.line, d.code) for d in report.diagnostics)
