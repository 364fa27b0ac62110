"""The result cache: a warm scan equals a cold one; changes are misses; corrupt, forged
or foreign entries are ignored; --no-cache writes nothing; concurrent runs agree."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tenantlint import cache
from tenantlint.api import scan_paths

REPO = Path(__file__).resolve().parents[2]
LEAK = 'def f(cur):\n    cur.execute("DELETE FROM orders")\n'
SCHEMA = "CREATE TABLE orders (id int, tenant_id int);\n"


def _project(tmp_path: Path) -> Path:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "a.py").write_text(LEAK)
    (tmp_path / "b.py").write_text('def g(cur):\n    cur.execute("SELECT * FROM orders WHERE tenant_id = %s", (1,))\n')
    return tmp_path


def _key(report) -> list:
    return [(d.path, d.location.line, d.location.column, d.code, d.message, d.fingerprint) for d in report.diagnostics]


def _entries(root: Path, kind: str) -> list[Path]:
    return [p for p in (root / cache.CACHE_DIR / kind).rglob("*") if p.is_file()]


def test_warm_equals_cold_and_is_gitignored(tmp_path):
    root = _project(tmp_path)
    cold = scan_paths(["."], cwd=root, use_cache=True)
    assert (root / ".tenantlint_cache" / ".gitignore").read_text().strip().endswith("*")
    assert len(_entries(root, "results")) == 3 and _entries(root, "catalog")
    warm = scan_paths(["."], cwd=root, use_cache=True)
    assert _key(warm) == _key(cold) and _key(cold)
    assert _key(scan_paths(["."], cwd=root)) == _key(cold)


def test_a_changed_file_or_catalog_is_a_miss(tmp_path):
    root = _project(tmp_path)
    scan_paths(["."], cwd=root, use_cache=True)
    (root / "b.py").write_text('def g(cur):\n    cur.execute("SELECT * FROM orders")\n')
    report = scan_paths(["."], cwd=root, use_cache=True)
    assert {(d.path, d.code) for d in report.diagnostics if d.code.startswith("TL1")} == {("a.py", "TL101"), ("b.py", "TL101")}
    # the catalog changes (the table gains no tenant column): every result must follow
    (root / "schema.sql").write_text("CREATE TABLE orders (id int);\n")
    os.utime(root / "schema.sql", ns=(1, 1))  # even with a stale mtime: size differs
    report = scan_paths(["."], cwd=root, use_cache=True)
    assert not [d for d in report.diagnostics if d.code.startswith("TL1")]


def test_corrupt_and_forged_entries_are_ignored(tmp_path):
    root = _project(tmp_path)
    cold = scan_paths(["."], cwd=root, use_cache=True)
    entries = _entries(root, "results") + _entries(root, "catalog")
    for i, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if i % 2 else b"\0" * 32 + data[32:])
    assert _key(scan_paths(["."], cwd=root, use_cache=True)) == _key(cold)
    assert _key(scan_paths(["."], cwd=root, use_cache=True)) == _key(cold)


def test_entries_signed_by_another_key_are_not_unpickled(tmp_path, monkeypatch):
    root = _project(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home1"))
    cold = scan_paths(["."], cwd=root, use_cache=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home2"))
    store = cache.Store(root)
    entry = _entries(root, "results")[0]
    assert store.load("results", entry.name) is None
    assert _key(scan_paths(["."], cwd=root, use_cache=True)) == _key(cold)


def test_no_cache_writes_nothing(tmp_path):
    root = _project(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--no-cache", "."], cwd=root, env=env,
                          capture_output=True)
    assert proc.returncode == 1 and not (root / ".tenantlint_cache").exists()


def test_concurrent_runs_agree(tmp_path):
    root = _project(tmp_path)
    for i in range(40):
        (root / f"m{i:02}.py").write_text(LEAK if i % 3 else "x = 1\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "tenantlint", "scan", "--format", "json", "-j", "2", "."]
    procs = [subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    reports = [json.loads(out) for out, _ in outs]
    assert all(b"Traceback" not in err for _, err in outs)
    diags = [r["diagnostics"] for r in reports]
    assert diags[0] == diags[1] == diags[2]
    assert len(diags[0]) == 1 + 26 + 1  # a.py, 26 leaky modules, TL504 on schema.sql
    again = json.loads(subprocess.run(cmd, cwd=root, env=env, capture_output=True).stdout)
    assert again["diagnostics"] == diags[0]


def test_entries_unused_for_a_month_are_pruned_and_hits_keep_theirs(tmp_path):
    root = _project(tmp_path)
    scan_paths(["."], cwd=root, use_cache=True)
    (root / "b.py").write_text(LEAK.replace("f(", "h("))  # b.py's first entry is now orphaned
    scan_paths(["."], cwd=root, use_cache=True)
    entries = _entries(root, "results")
    assert len(entries) == 4
    old = 1_000_000_000  # 2001: far older than the prune age
    for entry in entries:
        os.utime(entry, (old, old))
    scan_paths(["."], cwd=root, use_cache=True)  # hits on a.py, b.py, schema.sql refresh their entries
    store = cache.Store(root)
    assert store.prune() == 0  # ran less than a day ago (during the scans above)
    assert store.prune(force=True) == 1  # only the orphaned entry was left unused
    assert len(_entries(root, "results")) == 3
    assert _key(scan_paths(["."], cwd=root, use_cache=True)) == _key(scan_paths(["."], cwd=root))
