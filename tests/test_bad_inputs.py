"""Files that cannot be read or parsed become TL001 findings; the scan goes on and
the good file beside them is still reported."""
from __future__ import annotations

import pytest

from tenantlint.api import scan_paths

GOOD = 'def f(cur):\n    cur.execute("SELECT * FROM orders WHERE id = %s", (1,))\n'
CONFIG = 'tenant-tables = ["orders"]\n'


def scan(tmp_path, name: str, content: bytes):
    (tmp_path / "tenantlint.toml").write_text(CONFIG)
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / name).write_bytes(content)
    report = scan_paths(["."], cwd=tmp_path)
    by_path = {}
    for d in report.diagnostics:
        by_path.setdefault(d.path, set()).add(d.code)
    assert by_path.get("good.py") == {"TL101"}, "the good file must still be analyzed"
    return by_path.get(name, set()), report


@pytest.mark.parametrize("name, content", [
    ("syntax.py", b"def broken(:\n    pass\n"),
    ("nul.py", b"x = 1\x00\n"),
    ("image.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("utf16.py", "x = 'é'\n".encode("utf-16")),
    ("latin1_no_cookie.py", "name = 'café'\n".encode("latin-1")),
    ("python2.py", b"print 'hello'\n"),
    ("jinja.py", b"{% for x in items %}\n{{ x }}\n{% endfor %}\n"),
])
def test_unparseable_file_is_tl001(tmp_path, name, content):
    codes, _ = scan(tmp_path, name, content)
    assert codes == {"TL001"}


def test_latin1_with_cookie_is_decoded_and_analyzed(tmp_path):
    content = '# -*- coding: latin-1 -*-\n# café\ndef f(cur):\n    cur.execute("DELETE FROM orders")\n'
    codes, _ = scan(tmp_path, "cookie.py", content.encode("latin-1"))
    assert codes == {"TL101"}


@pytest.mark.parametrize("name, content", [
    ("empty.py", b""),
    ("only_comment.py", b"# nothing\n"),
    ("crlf.py", b"x = 1\r\ny = 2\r\n"),
    ("formfeed.py", b"x = 1\n\x0c\ny = 2\n"),
    ("bom.py", b"\xef\xbb\xbfx = 1\n"),
])
def test_odd_but_valid_files_are_clean(tmp_path, name, content):
    codes, _ = scan(tmp_path, name, content)
    assert codes == set()


def test_deep_nesting_is_parsed_or_reported(tmp_path):
    content = ("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n").encode()
    codes, _ = scan(tmp_path, "deep.py", content)
    assert codes <= {"TL001"}


def test_long_operator_chain(tmp_path):
    content = ("x = " + " + ".join(["a"] * 3000) + "\n").encode()
    codes, _ = scan(tmp_path, "chain.py", content)
    assert codes <= {"TL001"}


def test_large_generated_file(tmp_path):
    body = "".join(f"def f{i}(cur):\n    return {i}\n" for i in range(160_000))
    assert len(body) > 5_000_000
    codes, _ = scan(tmp_path, "huge.py", body.encode())
    assert codes == {"TL001"}  # above the default max-file-size: reported, not skipped


def test_directory_named_like_a_module_is_not_a_file(tmp_path):
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / "inner.py").write_text("x = 1\n")
    codes, _ = scan(tmp_path, "also_good.py", b"y = 2\n")
    assert codes == set()


def test_broken_symlink_is_reported(tmp_path):
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    codes, _ = scan(tmp_path, "fine.py", b"y = 2\n")
    report = scan_paths(["."], cwd=tmp_path)
    assert any(d.path == "dangling.py" and d.code == "TL001" for d in report.diagnostics)


def test_tl001_fingerprint_follows_the_content(tmp_path):
    """A baselined parse error must not hide the file's next, different breakage."""
    (tmp_path / "tenantlint.toml").write_text(CONFIG)
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    pass\n")
    first = scan_paths(["bad.py"], cwd=tmp_path).diagnostics[0].fingerprint
    bad.write_text("def f(:\n    return 1\n")
    second = scan_paths(["bad.py"], cwd=tmp_path).diagnostics[0].fingerprint
    assert first != second


def test_tl001_is_reported_whatever_is_selected(tmp_path):
    from tenantlint.engine import Selection

    assert Selection(select=("TL101",)).wants("TL001", "x.py")
    assert not Selection(ignore=("TL001",)).wants("TL001", "x.py")
    assert not Selection(per_file_ignores=(("__init__.py", ("TL101",)),)).wants("TL101", "pkg/__init__.py")


def test_unknown_code_in_a_suppression_is_reported(tmp_path):
    (tmp_path / "tenantlint.toml").write_text(CONFIG)
    (tmp_path / "a.py").write_text('def f(cur):\n    cur.execute("SELECT 1")  # tenantlint: ignore[TL999] typo\n')
    report = scan_paths(["a.py"], cwd=tmp_path)
    assert [(d.location.line, d.code) for d in report.diagnostics] == [(2, "TL003")]


def test_a_folder_that_cannot_be_listed_is_reported(tmp_path, monkeypatch):
    import os

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.py").write_text(GOOD)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    codes, report = scan(tmp_path, "other.py", b"x = 1\n")
    assert [(d.path, d.code) for d in report.diagnostics if d.path.startswith("locked")] == [("locked", "TL001")]
    assert "cannot list folder" in next(d.message for d in report.diagnostics if d.path == "locked")
