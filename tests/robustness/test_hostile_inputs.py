"""Hostile inputs, generated here in a temp dir, scanned by the real CLI in a subprocess
(the ones that could crash a process must not take pytest down with them).

For each: no traceback, the bad file reported (TL001 unless it is valid and analysed),
a good file beside it still reported, exit code 1, bounded time and memory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD = 'def f(cur):\n    cur.execute("SELECT * FROM orders WHERE id = %s", (1,))\n'
CONFIG = 'tenant-tables = ["orders"]\n'
LEAK = 'def g(cur):\n    cur.execute("DELETE FROM orders")\n'
TIME_LIMIT = 120  # seconds for one scan, on a loaded CI machine
MEMORY_LIMIT = 1024  # MB of any one process (workers are held to 600 MB below)


def _run(tmp_path: Path, *args: str, env_extra: dict | None = None) -> tuple[int, dict, str, float, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", TENANTLINT_FILE_TIMEOUT="15",
               TENANTLINT_FILE_MEMORY_MB="600")
    env.update(env_extra or {})
    start = time.monotonic()
    code = ("import resource, subprocess, sys;"
            "p = subprocess.run(sys.argv[1:], capture_output=True);"
            "sys.stdout.buffer.write(p.stdout); sys.stderr.buffer.write(p.stderr);"
            "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
            "sys.stderr.write(f'\\n@@maxrss {r}\\n'); sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "tenantlint", "scan",
                           "--format", "json", *args], cwd=tmp_path, env=env, capture_output=True,
                          timeout=TIME_LIMIT)
    elapsed = time.monotonic() - start
    stderr = proc.stderr.decode("utf-8", "replace")
    maxrss_kb = int(stderr.rsplit("@@maxrss", 1)[1].split()[0])
    stderr = stderr.rsplit("\n@@maxrss", 1)[0]
    data = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, data, stderr, elapsed, maxrss_kb


def _codes(data: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for d in data.get("diagnostics", []):
        out.setdefault(d["path"], set()).add(d["code"])
    return out


def _scan(tmp_path: Path, *args: str, **kw):
    (tmp_path / "tenantlint.toml").write_text(CONFIG)
    (tmp_path / "good.py").write_text(GOOD)
    code, data, stderr, elapsed, maxrss_kb = _run(tmp_path, *(args or (".",)), **kw)
    assert "Traceback" not in stderr, stderr
    assert code == 1, (code, stderr)
    by_path = _codes(data)
    assert by_path.get("good.py") == {"TL101"}, "the good file beside must still be analyzed"
    assert elapsed < TIME_LIMIT
    assert maxrss_kb < MEMORY_LIMIT * 1024, f"{maxrss_kb} KB"
    return by_path, data


def _deep_parens(n: int) -> bytes:
    return ("x = " + "(" * n + "1" + ")" * n + "\n").encode()


def _deep_calls(n: int) -> bytes:
    return ("x = " + "f(" * n + "1" + ")" * n + "\n").encode()


def _chain(op: str, n: int) -> bytes:
    return ("x = " + f" {op} ".join(["a"] * n) + "\n").encode()


UNPARSEABLE = {
    "syntax.py": b"def broken(:\n    pass\n",
    "python2.py": b"print 'hello'\nexec code in ns\n",
    "invalid_utf8.py": b"x = '\xff\xfe\xfa'\n",
    "nul.py": b"x = 1\x00\n",
    "utf16_bom.py": "x = 'é'\n".encode("utf-16"),
    "png.py": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "jinja.py": b"{% for x in items %}\n{{ x }}\n{% endfor %}\n",
}

# Valid (or at least readable) files: analysed, never a crash. Each may be TL001 only
# when the parser honestly cannot cope (too deep), and must never be silently dropped.
VALID = {
    "empty.py": b"",
    "crlf.py": b"x = 1\r\ny = 2\r\n",
    "lone_cr.py": b"x = 1\ry = 2\r",
    "formfeed.py": b"x = 1\n\x0c\ny = 2\n\x0cdef f():\n    return 1\n",
    "long_line.py": ("x = '" + "a" * 100_000 + "'\n").encode(),
    "long_sql_line.py": ("q = 'SELECT * FROM t WHERE " + " AND ".join(f"c{i} = 1" for i in range(10_000))
                         + "'\n").encode(),
    "py312.py": b"type Point = tuple[float, float]\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n"
                b"x = f\"{'nested' + f'{1}'}\"\n",
    "py313_defaults.py": b"class A[T = int]:\n    pass\n",
    "py314_tstring.py": b"name = 'x'\ngreeting = t'hello {name}'\n",
    "parens_1000.py": _deep_parens(1000),
    "calls_1000.py": _deep_calls(1000),
    "brackets_5000.py": ("x = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
}

CHAINS = {
    "plus_100k.py": _chain("+", 100_000),
    "and_100k.py": _chain("and", 100_000),
    "mul_100k.py": _chain("*", 100_000),
}


@pytest.mark.parametrize("name", sorted(UNPARSEABLE))
def test_unparseable_file_is_reported(tmp_path, name):
    (tmp_path / name).write_bytes(UNPARSEABLE[name])
    by_path, _ = _scan(tmp_path)
    assert by_path.get(name) == {"TL001"}


@pytest.mark.parametrize("name", sorted(VALID))
def test_odd_valid_file_never_crashes(tmp_path, name):
    (tmp_path / name).write_bytes(VALID[name])
    by_path, data = _scan(tmp_path)
    assert by_path.get(name, set()) <= {"TL001"}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_100k_operator_chain_is_bounded(tmp_path, name):
    (tmp_path / name).write_bytes(CHAINS[name])
    by_path, data = _scan(tmp_path, ".", "-j", "1")
    assert by_path.get(name, set()) <= {"TL001"}


def test_chain_next_to_a_leak_on_the_pool(tmp_path):
    """On the pool (-j 2, >= 32 files) a file that crashes or stalls a worker costs only
    that file: the leaks in the other files are all still reported."""
    (tmp_path / "plus.py").write_bytes(_chain("+", 100_000))
    (tmp_path / "deep.py").write_bytes(("x = " + "f(" * 5000 + ")" * 5000 + "\n").encode())
    for i in range(40):
        (tmp_path / f"leak_{i:02}.py").write_text(LEAK)
    by_path, _ = _scan(tmp_path, ".", "-j", "2")
    assert all(by_path.get(f"leak_{i:02}.py") == {"TL101"} for i in range(40))
    assert by_path.get("plus.py", set()) <= {"TL001"} and by_path.get("deep.py", set()) <= {"TL001"}


def test_latin1_cookie_is_decoded_and_analyzed(tmp_path):
    content = '# -*- coding: latin-1 -*-\n# café\ndef f(cur):\n    cur.execute("DELETE FROM orders")\n'
    (tmp_path / "cookie.py").write_bytes(content.encode("latin-1"))
    by_path, _ = _scan(tmp_path)
    assert by_path.get("cookie.py") == {"TL101"}


def test_twenty_megabyte_file_is_reported_not_skipped(tmp_path):
    line = "def f(cur):\n    return 1\n"
    (tmp_path / "huge.py").write_text(line * (20_000_000 // len(line) + 1))
    by_path, data = _scan(tmp_path)
    assert by_path.get("huge.py") == {"TL001"}
    message = next(d["message"] for d in data["diagnostics"] if d["path"] == "huge.py")
    assert "max-file-size" in message


def test_twenty_megabyte_file_under_a_raised_limit_stays_bounded(tmp_path):
    """With max-file-size raised, the 20 MB file is analysed within the worker's limits:
    either it completes or it is a TL001 that says which limit it hit."""
    (tmp_path / "tenantlint.toml").write_text(CONFIG + "max-file-size = 30000000\n")
    (tmp_path / "good.py").write_text(GOOD)
    body = "x = 1\n" * (20_000_000 // 6 + 1)
    (tmp_path / "huge.py").write_text(body)
    code, data, stderr, elapsed, maxrss_kb = _run(
        tmp_path, ".", env_extra={"TENANTLINT_FILE_TIMEOUT": "10", "TENANTLINT_FILE_MEMORY_MB": "600"})
    assert "Traceback" not in stderr
    by_path = _codes(data)
    assert by_path.get("good.py") == {"TL101"}
    assert by_path.get("huge.py", set()) <= {"TL001"}
    assert maxrss_kb < 1200 * 1024


def test_symlink_loop_broken_link_and_directory_named_py(tmp_path):
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "back").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / "inner.py").write_text("y = 1\n")
    by_path, _ = _scan(tmp_path)
    assert by_path.get("dangling.py") == {"TL001"}
    assert "pkg.py" not in by_path and "pkg.py/inner.py" not in by_path


def test_file_symlink_loop_is_reported(tmp_path):
    (tmp_path / "self_a.py").symlink_to(tmp_path / "self_b.py")
    (tmp_path / "self_b.py").symlink_to(tmp_path / "self_a.py")
    by_path, _ = _scan(tmp_path)
    assert by_path.get("self_a.py") == {"TL001"} and by_path.get("self_b.py") == {"TL001"}


def test_directory_named_py_given_explicitly(tmp_path):
    (tmp_path / "pkg.py").mkdir()
    by_path, _ = _scan(tmp_path, "good.py", "pkg.py")
    assert "Traceback" not in str(by_path)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems reject non-UTF-8 names")
def test_non_utf8_file_name(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9.py"
    with open(name, "wb") as fh:
        fh.write(LEAK.encode())
    (tmp_path / "tenantlint.toml").write_text(CONFIG)
    (tmp_path / "good.py").write_text(GOOD)
    code, data, stderr, elapsed, _ = _run(tmp_path, ".")
    assert "Traceback" not in stderr and code == 1
    by_path = _codes(data)
    assert by_path.get("good.py") == {"TL101"}
    assert any(path.startswith("caf") and codes for path, codes in by_path.items()), by_path


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    target = tmp_path / "secret.py"
    target.write_text(LEAK)
    target.chmod(0)
    by_path, _ = _scan(tmp_path)
    assert by_path.get("secret.py") == {"TL001"}


@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 1000 + "1" + ")" * 1000 + " FROM orders",
    "SELECT " + "f(" * 1000 + "1" + ")" * 1000 + " FROM orders",
    "SELECT " + "ARRAY[" * 30 + "1" + "]" * 30 + " FROM orders",
    "SELECT * FROM orders WHERE " + " OR ".join(f"c = {i}" for i in range(50_000)),
    "SELECT 'it''s' FROM orders WHERE name = 'don't",
])
def test_hostile_sql_string_is_bounded(tmp_path, sql):
    """A SQL string that is too deep, too long or does not tokenize: TL002/TL101 or
    nothing, never a hang or a crash."""
    (tmp_path / "q.py").write_text(f"def f(cur):\n    cur.execute({sql!r})\n")
    by_path, _ = _scan(tmp_path)
    assert by_path.get("q.py", set()) <= {"TL002", "TL101", "TL001"}
