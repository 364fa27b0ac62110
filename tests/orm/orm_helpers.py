"""Run tenantlint over a small project written into a temporary folder."""
from __future__ import annotations

from pathlib import Path

from project_scan import TENANT_ID, scan_project, write_project


def run(tmp_path: Path, files: dict[str, str], config: str = TENANT_ID) -> set:
    report = scan_project(tmp_path, files, config)
    return {(d.path, d.location.line, d.code) for d in report.diagnostics if d.code.startswith(("TL2", "TL002"))}


def catalog_for(tmp_path: Path, files: dict[str, str], config: str = TENANT_ID):
    from tenantlint.config import load_settings
    from tenantlint.discover import build_catalog

    write_project(tmp_path, files, config)
    return build_catalog(load_settings(tmp_path / "tenantlint.toml", cwd=tmp_path))
