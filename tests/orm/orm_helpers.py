"""Run tenantlint over a small project written into a temporary folder."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tenantlint.api import scan_paths


def run(tmp_path: Path, files: dict[str, str], config: str = 'tenant-columns = ["tenant_id"]\n') -> set:
    (tmp_path / "tenantlint.toml").write_text(config)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    report = scan_paths(["."], config=tmp_path / "tenantlint.toml", cwd=tmp_path)
    return {(d.path, d.location.line, d.code) for d in report.diagnostics if d.code.startswith(("TL2", "TL002"))}


def catalog_for(tmp_path: Path, files: dict[str, str], config: str = 'tenant-columns = ["tenant_id"]\n'):
    from tenantlint.config import load_settings
    from tenantlint.discover import build_catalog

    (tmp_path / "tenantlint.toml").write_text(config)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return build_catalog(load_settings(tmp_path / "tenantlint.toml", cwd=tmp_path))
