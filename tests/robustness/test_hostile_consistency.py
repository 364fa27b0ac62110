"""On a project full of hostile entries, a cold scan, a warm one, `-j 1` and the pool
agree exactly, and every hostile entry is accounted for (a finding, never a gap)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from robusthelp import LEAK, REPO, tiny_project


def _hostile(tmp_path: Path) -> Path:
    root = tiny_project(tmp_path)
    (root / "tenantlint.toml").unlink()  # the config in a pyproject.toml with a byte order mark
    (root / "pyproject.toml").write_bytes(b'\xef\xbb\xbf[tool.tenantlint]\ntenant-tables = ["orders"]\n')
    (root / "schema.sql").write_text("CREATE TABLE orders (id int, tenant_id int);\n")
    (root / "shared").mkdir()
    (root / "shared" / "q.py").write_text(LEAK)
    (root / "src").mkdir()
    (root / "src" / "linked").symlink_to(root / "shared", target_is_directory=True)
    (root / "src" / "loop").symlink_to(root, target_is_directory=True)
    (root / "src" / "dangling.py").symlink_to(root / "missing.py")
    (root / "zero.py").symlink_to("/dev/zero")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.py")
    if sys.platform != "darwin":
        with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "w") as fh:
            fh.write(LEAK)
    (root / "bom.py").write_bytes(b"\xef\xbb\xbf" + LEAK.encode())
    (root / "broken.py").write_text("def f(:\n")
    (root / "nul.py").write_bytes(b"x = 1\x00\n")
    (root / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\n" + LEAK.encode() + b"# caf\xe9\n")
    (root / "empty_ignore.py").write_text(LEAK.replace('orders")', 'orders")  # tenantlint: ignore[]'))
    for i in range(70):  # enough for the worker pools of both passes
        (root / f"m{i:02}.py").write_text(LEAK if i % 7 == 0 else "x = 1\n")
    return root


def _scan(root: Path, *args: str) -> tuple[int, list]:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", XDG_CACHE_HOME=str(root.parent / "xdg"))
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--format", "json", *args, "."], cwd=root,
                          env=env, capture_output=True, timeout=300)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    data = json.loads(proc.stdout)
    found = sorted((d["path"], d["line"], d["code"], d["message"], d["fingerprint"]) for d in data["diagnostics"])
    return proc.returncode, [data["summary"]["files_scanned"], found]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks and FIFOs")
def test_cold_warm_serial_and_pool_agree_on_hostile_entries(tmp_path):
    root = _hostile(tmp_path)
    cold = _scan(root, "-j", "2")
    assert cold[0] == 1
    assert _scan(root, "-j", "2") == cold  # warm
    assert _scan(root, "-j", "1") == cold  # warm, serial
    assert _scan(root, "-j", "1", "--no-cache") == cold
    assert _scan(root, "-j", "2", "--no-cache") == cold
    files, found = cold[1]
    by_path: dict[str, set] = {}
    for path, _, code, _, _ in found:
        by_path.setdefault(path, set()).add(code)
    # the linked folder's file once, under its own name
    expected = {"shared/q.py": {"TL101"}, "src/linked/q.py": None, "zero.py": {"TL001"},
                "src/dangling.py": {"TL001"}, "bom.py": {"TL101"}, "broken.py": {"TL001"}, "nul.py": {"TL001"},
                "latin.py": {"TL101"}, "empty_ignore.py": {"TL003", "TL101"}}
    if hasattr(os, "mkfifo"):
        expected["pipe.py"] = {"TL001"}
    for path, codes in expected.items():
        assert by_path.get(path) == codes, (path, by_path.get(path))
    assert "src/loop" not in by_path
