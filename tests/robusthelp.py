"""Helpers for tests/robustness: a tiny project with one leak, and the repository root
for running the real CLI in a subprocess."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEAK = 'def f(cur):\n    cur.execute("DELETE FROM orders")\n'


def tiny_project(tmp_path: Path) -> Path:
    """`proj/` (a repository root) with a config naming `orders` and `a.py` deleting from it."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "tenantlint.toml").write_text('tenant-tables = ["orders"]\n')
    (root / "a.py").write_text(LEAK)
    return root
