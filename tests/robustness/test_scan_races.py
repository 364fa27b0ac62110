"""Edits during a scan never poison the caches: what is cached is filed under the state
of the file that was read, not the state it has when the result is stored. The races
are made deterministic with `tenantlint.source.after_read`, called after a file's bytes
are read and before they are analyzed."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tenantlint import cache, source
from tenantlint.api import scan_paths

LEAK = 'def f(cur):\n    cur.execute("DELETE FROM orders")\n    cur.execute("SELECT * FROM orders")\n'
CLEAN = 'def f(cur):\n    cur.execute("DELETE FROM orders WHERE tenant_id = %s", (1,))\n'


def _found(report) -> list:
    return sorted((d.path, d.location.line, d.code) for d in report.diagnostics)


def _edit_once(target: Path, text: str, monkeypatch, *, during_catalog: bool) -> Path:
    """Rewrite `target` right after the first time it is read, in the catalog pass or in
    the per-file pass. The returned marker file exists once the edit was made (a file,
    so an edit made on a worker process is seen here too)."""
    from tenantlint import discover

    marker = target.parent.parent / f"{target.parent.name}.edited"
    armed = {"on": during_catalog}

    def hook(path: Path) -> None:
        if armed["on"] and Path(path).name == target.name:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            target.write_text(text)

    real_build = discover.build_catalog

    def build_catalog(*args, **kwargs):
        catalog = real_build(*args, **kwargs)
        armed["on"] = not during_catalog
        return catalog

    monkeypatch.setattr(source, "after_read", hook)
    monkeypatch.setattr(discover, "build_catalog", build_catalog)
    return marker


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_edit_during_the_scan_does_not_poison_the_result_cache(tmp_path, monkeypatch, jobs):
    (tmp_path / "schema.sql").write_text("CREATE TABLE orders (id int, tenant_id int);\n")
    (tmp_path / "a.py").write_text(LEAK)
    for i in range(40):  # enough files for the worker pool with jobs=2
        (tmp_path / f"m{i:02}.py").write_text("x = 1\n")
    edited = _edit_once(tmp_path / "a.py", CLEAN, monkeypatch, during_catalog=False)
    scan_paths(["."], cwd=tmp_path, use_cache=True, jobs=jobs)  # a branch switch mid-scan
    assert edited.exists()
    monkeypatch.undo()
    (tmp_path / "a.py").write_text(LEAK)  # and back
    cold = scan_paths(["."], cwd=tmp_path, jobs=jobs)
    assert [c for _, _, c in _found(cold) if c.startswith("TL1")] == ["TL101", "TL101"]
    assert _found(scan_paths(["."], cwd=tmp_path, use_cache=True, jobs=jobs)) == _found(cold)
    assert _found(scan_paths(["."], cwd=tmp_path, use_cache=True, jobs=1)) == _found(cold)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_schema_change_during_the_scan_does_not_leave_a_stale_fact(tmp_path, monkeypatch, jobs):
    monkeypatch.setattr(cache, "_RACY_NS", 0)  # trust recorded facts at once: the race, not the clock
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE orders (id int);\n")
    (tmp_path / "a.py").write_text(LEAK)
    for i in range(70):  # enough files for the catalog's worker pool with jobs=2
        (tmp_path / f"m{i:02}.py").write_text("x = 1\n")
    edited = _edit_once(schema, "CREATE TABLE orders (id int, tenant_id int);\n", monkeypatch, during_catalog=True)
    scan_paths(["."], cwd=tmp_path, use_cache=True, jobs=jobs)  # the catalog read the old schema
    assert edited.exists()
    monkeypatch.setattr(source, "after_read", None)
    cold = scan_paths(["."], cwd=tmp_path, jobs=jobs)
    assert ("a.py", 2, "TL101") in _found(cold)
    assert _found(scan_paths(["."], cwd=tmp_path, use_cache=True, jobs=jobs)) == _found(cold)


def test_a_valid_entry_filed_under_another_key_is_not_served(tmp_path):
    """The signature covers the entry's key: findings cannot move between files."""
    (tmp_path / "schema.sql").write_text("CREATE TABLE orders (id int, tenant_id int);\n")
    (tmp_path / "a.py").write_text(LEAK)
    (tmp_path / "b.py").write_text(CLEAN)
    cold = scan_paths(["."], cwd=tmp_path, use_cache=True)
    store = cache.Store(tmp_path)
    results = tmp_path / cache.CACHE_DIR / "results"
    by_path = {}
    for entry in results.rglob("*"):
        if entry.is_file():
            by_path[store.load("results", entry.name).path] = entry
    # b.py's (clean) entry copied over a.py's: a.py would lose its findings
    by_path["a.py"].write_bytes(by_path["b.py"].read_bytes())
    assert store.load("results", by_path["a.py"].name) is None
    assert _found(scan_paths(["."], cwd=tmp_path, use_cache=True)) == _found(cold)
