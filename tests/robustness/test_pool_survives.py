"""The worker pool survives its workers: a crash, a stall or a memory blow-up on one
file becomes a TL001 for that file, every other result is kept, order is stable."""
from __future__ import annotations

import faulthandler
import os
import signal
import time
from pathlib import Path

import pytest

from tenantlint import engine
from tenantlint.catalog import assemble
from tenantlint.config import Settings

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers inherit the patched engine via fork")


def _files(tmp_path: Path, names: list[str]) -> list[Path]:
    out = []
    for name in names:
        path = tmp_path / name
        path.write_text("x = 1\n")
        out.append(path)
    return out


@pytest.fixture
def hostile_engine(monkeypatch):
    real = engine.check_file

    def check_file(path, settings, catalog, **kw):
        if path.name.startswith("segv"):
            faulthandler.disable()  # pytest's handler would print a stack into a passing run
            os.kill(os.getpid(), signal.SIGSEGV)
        if path.name.startswith("hang"):
            time.sleep(600)
        if path.name.startswith("hog"):
            hoard = []
            while True:
                hoard.append(bytearray(50 * 2**20))
                time.sleep(0.01)
        if path.name.startswith("exit"):
            os._exit(3)
        return real(path, settings, catalog, **kw)

    monkeypatch.setattr(engine, "check_file", check_file)


def test_crash_stall_and_memory_become_tl001_in_order(tmp_path, hostile_engine):
    names = [f"ok_{i:02}.py" for i in range(12)]
    names[2], names[5], names[7], names[9] = "segv.py", "hang.py", "hog.py", "exit.py"
    paths = _files(tmp_path, names)
    settings = Settings(root=tmp_path)
    catalog = assemble(settings, (), (), ())
    started = time.monotonic()
    results = list(engine.check_in_pool(paths, settings, catalog, 2, timeout=3, memory=300 * 2**20))
    assert time.monotonic() - started < 60
    assert [r.path for r in results] == names  # input order, whatever finished first
    by_name = {r.path: r for r in results}
    for name in names:
        codes = [d.code for d in by_name[name].diagnostics]
        assert codes == (["TL001"] if not name.startswith("ok") else []), name
    assert "SIGSEGV" in by_name["segv.py"].diagnostics[0].message
    assert "longer than 3 s" in by_name["hang.py"].diagnostics[0].message
    assert "memory" in by_name["hog.py"].diagnostics[0].message
    assert "exit code 3" in by_name["exit.py"].diagnostics[0].message
    assert all(by_name[n].transient for n in ("segv.py", "hang.py", "hog.py", "exit.py"))


def test_a_large_parent_is_not_its_workers_memory(tmp_path, monkeypatch):
    """A forked worker counts the pages it shares with its parent as resident; a large
    parent (a long test run, the editor server with its catalog) must not make every
    slow file a memory failure."""
    ballast = bytearray(300 * 2**20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1  # resident
    real = engine.check_file

    def slow(path, settings, catalog, **kw):
        time.sleep(1)  # several polls of the parent
        return real(path, settings, catalog, **kw)

    monkeypatch.setattr(engine, "check_file", slow)
    paths = _files(tmp_path, ["a.py", "b.py"])
    settings = Settings(root=tmp_path)
    results = list(engine.check_in_pool(paths, settings, assemble(settings, (), (), ()), 2, timeout=30,
                                        memory=200 * 2**20))
    assert [d.code for r in results for d in r.diagnostics] == []
    del ballast


def test_internal_error_in_a_worker_fails_loudly(tmp_path, monkeypatch):
    def boom(path, settings, catalog, **kw):
        raise engine.InternalError(f"internal error while checking {path.name}")

    monkeypatch.setattr(engine, "check_file", boom)
    paths = _files(tmp_path, ["a.py", "b.py"])
    settings = Settings(root=tmp_path)
    with pytest.raises(engine.InternalError):
        list(engine.check_in_pool(paths, settings, assemble(settings, (), (), ()), 2))


def test_serial_mode_isolates_a_risky_file(tmp_path, monkeypatch):
    """-j 1 runs in process, but a file big enough to need GBs of syntax tree goes to a
    watched subprocess (with a memory cap), and the scan goes on."""
    from tenantlint.api import scan_paths

    (tmp_path / "tenantlint.toml").write_text('tenant-tables = ["orders"]\n')
    (tmp_path / "big.py").write_text("def f(cur):\n    return 1\n" * 60_000)
    (tmp_path / "leak.py").write_text('def f(cur):\n    cur.execute("DELETE FROM orders")\n')
    calls = []
    real = engine.check_isolated

    def spy(path, settings, catalog):
        calls.append(path.name)
        return real(path, settings, catalog)

    monkeypatch.setattr(engine, "check_isolated", spy)
    monkeypatch.setenv("TENANTLINT_FILE_TIMEOUT", "10")
    report = scan_paths(["."], cwd=tmp_path, jobs=1)
    assert calls == ["big.py"]
    codes = {(d.path, d.code) for d in report.diagnostics}
    assert ("leak.py", "TL101") in codes
    assert {c for p, c in codes if p == "big.py"} <= {"TL001"}
