"""Nothing the walk meets vanishes: symbolic links to folders inside the project are
followed (once per real path), and what cannot be read (a FIFO, a device, a link out of
the project, a file we may not open) is a TL001 saying why, never a hang, an OOM or a
silent skip. Files named on the command line get the same treatment."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from robusthelp import LEAK, REPO, tiny_project

TIMEOUT = 90


def _scan(root: Path, *args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--no-cache", "--format", "json", *args],
                          cwd=cwd or root, env=env, capture_output=True, timeout=TIMEOUT)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, stderr


def _found(data: dict) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list] = {}
    for d in data["diagnostics"]:
        out.setdefault(d["path"], []).append((d["code"], d["message"]))
    return out


def test_symlinked_folder_inside_the_project_is_scanned(tmp_path):
    root = tiny_project(tmp_path)
    (root / "shared").mkdir()
    (root / "shared" / "q.py").write_text(LEAK)
    (root / "src").mkdir()
    (root / "src" / "linked").symlink_to(root / "shared", target_is_directory=True)
    code, data, _ = _scan(root, "src")
    assert code == 1 and [c for c, _ in _found(data)["src/linked/q.py"]] == ["TL101"]
    # the whole project: the file once, under its own name
    code, data, _ = _scan(root, ".")
    assert set(_found(data)) == {"a.py", "shared/q.py"} and data["summary"]["files_scanned"] == 2


def test_link_loops_are_walked_once(tmp_path):
    root = tiny_project(tmp_path)
    (root / "pkg").mkdir()
    (root / "pkg" / "up").symlink_to(root, target_is_directory=True)
    (root / "pkg" / "self").symlink_to(root / "pkg", target_is_directory=True)
    code, data, _ = _scan(root, ".")
    assert code == 1 and set(_found(data)) == {"a.py"}


def test_folder_link_out_of_the_project_is_reported(tmp_path):
    root = tiny_project(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.py").write_text(LEAK)
    (root / "vendor").symlink_to(outside, target_is_directory=True)
    (root / "ext.py").symlink_to(outside / "x.py")
    (root / "ext2.py").symlink_to(outside / "x.py")  # the same file: still its own entry
    code, data, _ = _scan(root, ".")
    found = _found(data)
    for name in ("vendor", "ext.py", "ext2.py"):
        assert [c for c, _ in found[name]] == ["TL001"] and "outside the project" in found[name][0][1]
    assert found["a.py"] == [("TL101", found["a.py"][0][1])]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_device_links_in_a_walk_are_reported_not_skipped(tmp_path):
    root = tiny_project(tmp_path)
    os.mkfifo(root / "pipe.py")
    (root / "sub").mkdir()
    os.mkfifo(root / "sub" / ".gitignore")  # not read: a FIFO would block the walk
    (root / "zero.py").symlink_to("/dev/zero")
    code, data, _ = _scan(root, ".")
    found = _found(data)
    assert [c for c, _ in found["pipe.py"]] == ["TL001"] and "FIFO" in found["pipe.py"][0][1]
    assert [c for c, _ in found["zero.py"]] == ["TL001"]
    assert "/dev/zero" in found["zero.py"][0][1] and "outside the project" in found["zero.py"][0][1]
    assert data["summary"]["files_scanned"] == 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_dev_zero_named_on_the_command_line_do_not_hang_or_exhaust_memory(tmp_path):
    root = tiny_project(tmp_path)
    os.mkfifo(root / "pipe.py")
    (root / "zero.py").symlink_to("/dev/zero")
    code, data, _ = _scan(root, "pipe.py", "zero.py", "a.py")  # within TIMEOUT, bounded memory
    found = _found(data)
    assert code == 1 and {p: [c for c, _ in v] for p, v in found.items()} == {
        "pipe.py": ["TL001"], "zero.py": ["TL001"], "a.py": ["TL101"]}


@pytest.mark.parametrize("config", [True, False])
def test_named_file_we_may_not_open_is_tl001_not_a_usage_error(tmp_path, monkeypatch, config):
    """A file in a folder without search permission: stat fails with EACCES (simulated,
    as tests may run as root)."""
    sys.path.insert(0, str(REPO / "tests" / "cli"))
    from clihelp import run

    root = tiny_project(tmp_path)
    if not config:  # the project is found from the paths named
        (root / "tenantlint.toml").unlink()
        (root / "schema.sql").write_text("CREATE TABLE orders (id int, tenant_id int);\n")
    (root / "locked").mkdir()
    hidden = root / "locked" / "b.py"
    hidden.write_text(LEAK)
    real_stat, real_lstat = os.stat, os.lstat

    def denied(real):
        def stat(path, *args, **kwargs):
            if os.fspath(path).endswith(os.path.join("locked", "b.py")):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path, *args, **kwargs)
        return stat

    monkeypatch.setattr(os, "stat", denied(real_stat))
    monkeypatch.setattr(os, "lstat", denied(real_lstat))
    result = run(["scan", "--no-cache", "--format", "json", "locked/b.py", "a.py"], root)
    assert result.exit_code == 1, result.stderr
    found = _found(json.loads(result.stdout))
    assert [c for c, _ in found["locked/b.py"]] == ["TL001"] and "Permission denied" in found["locked/b.py"][0][1]
    assert [c for c, _ in found["a.py"]] == ["TL101"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads everything")
def test_named_file_in_a_locked_folder_for_real(tmp_path):
    root = tiny_project(tmp_path)
    (root / "locked").mkdir()
    (root / "locked" / "b.py").write_text(LEAK)
    (root / "locked").chmod(0)
    try:
        code, data, _ = _scan(root, "locked/b.py", "a.py")
    finally:
        (root / "locked").chmod(0o755)
    assert code == 1 and [c for c, _ in _found(data)["locked/b.py"]] == ["TL001"]
