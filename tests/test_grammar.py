"""Newer Python grammar than the interpreter's: lowered through libcst, positions kept;
libcst is never loaded by a normal scan."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tenantlint.grammar import lower, parse

NEWER = {
    "type alias": "type Rows[T] = list[T]\n",
    "generic def": "def first[T: int, *Ts, **P](x: T) -> T:\n    return x\n",
    "generic class": "class Box[T](Base):\n    pass\n",
    "nested quotes": 'label = f"{row["name"]}: {f"{row["total"]:>10}"}"\n',
    "template string": 'q = t"SELECT 1 WHERE id = {x}"\n',
    "except tuple": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
}


@pytest.mark.parametrize("source", list(NEWER.values()), ids=list(NEWER))
def test_newer_syntax_is_read(source):
    tree = parse(source)
    assert isinstance(tree, ast.Module)


def test_plain_syntax_error_is_still_an_error():
    with pytest.raises(SyntaxError):
        parse("def broken(:\n    pass\n")


def test_lines_and_columns_of_later_code_are_kept():
    source = textwrap.dedent('''\
        type Rows[T] = list[
            T
        ]
        class Repo[M: object]:
            def all[R](self, cur) -> Rows[R]:
                return cur.execute("SELECT 1")
        x = f"{d["k"]}" + "tail"
    ''')
    lowered = lower(source)
    assert lowered is not None
    assert lowered.count("\n") == source.count("\n")
    for number, (before, after) in enumerate(zip(source.splitlines(), lowered.splitlines()), 1):
        assert len(before) == len(after), number
    call = next(n for n in ast.walk(parse(source)) if isinstance(n, ast.Call))
    assert (call.lineno, call.col_offset) == (6, 15)
    assert source.splitlines()[5][call.col_offset:].startswith("cur.execute")


def test_value_of_alias_keeps_its_column():
    lowered = lower("type Pair[T] = tuple[T, T]\n")
    assert lowered == "Pair         = tuple[T, T]\n"


def test_normal_scan_does_not_import_libcst(tmp_path: Path):
    (tmp_path / "tenantlint.toml").write_text('tenant-tables = ["orders"]\n')
    (tmp_path / "app.py").write_text('def f(cur):\n    cur.execute("SELECT * FROM orders")\n')
    program = textwrap.dedent(f"""
        import sys
        from tenantlint.api import scan_paths
        report = scan_paths(["."], cwd={str(tmp_path)!r})
        assert [d.code for d in report.diagnostics] == ["TL101"], report.diagnostics
        assert "libcst" not in sys.modules, "a normal scan imported libcst"
    """)
    subprocess.run([sys.executable, "-c", program], check=True)


def test_newer_syntax_file_imports_libcst_only_then(tmp_path: Path):
    (tmp_path / "tenantlint.toml").write_text('tenant-tables = ["orders"]\n')
    (tmp_path / "app.py").write_text('type X = int\ndef f(cur):\n    cur.execute("SELECT * FROM orders")\n')
    program = textwrap.dedent(f"""
        import sys
        from tenantlint.api import scan_paths
        report = scan_paths(["."], cwd={str(tmp_path)!r})
        assert [(d.code, d.location.line) for d in report.diagnostics] == [("TL101", 3)], report.diagnostics
    """)
    subprocess.run([sys.executable, "-c", program], check=True)
