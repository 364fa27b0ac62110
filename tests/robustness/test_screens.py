"""Screens only save work: a scan with screens gives exactly the findings of a scan
without them (TENANTLINT_NO_SCREENS=1), on every fixture project and on real code."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tenantlint.api import scan_paths
from tenantlint.rules import CHECKERS
from tenantlint.screen import wanted

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
PROJECTS = sorted({p.parent for p in FIXTURES.rglob("*") if p.name in ("tenantlint.toml", "pyproject.toml")}
                  | {p for p in (FIXTURES / "rules").iterdir() if p.is_dir()})


def _findings(root: Path, monkeypatch, screens: bool, jobs: int = 1) -> list:
    if screens:
        monkeypatch.delenv("TENANTLINT_NO_SCREENS", raising=False)
    else:
        monkeypatch.setenv("TENANTLINT_NO_SCREENS", "1")
    report = scan_paths(["."], cwd=root, jobs=jobs)
    return sorted((d.path, d.location.line, d.location.column, d.code, d.message) for d in report.diagnostics)


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_screens_change_nothing_on_fixtures(project, monkeypatch):
    assert _findings(project, monkeypatch, True) == _findings(project, monkeypatch, False)


def _real_corpus(tmp_path: Path) -> Path:
    """Real third-party code that is full of SQL text and of API calls: sqlglot's dialects
    and optimizer, click, pathspec, psycopg; with tables that appear in them
    declared tenant-scoped so the SQL rules have something to find."""
    import click
    import pathspec
    import psycopg
    import sqlglot

    root = tmp_path / "corpus"
    for src, name in ((Path(sqlglot.__file__).parent / "dialects", "dialects"),
                      (Path(sqlglot.__file__).parent / "optimizer", "optimizer"),
                      (Path(click.__file__).parent, "click"), (Path(pathspec.__file__).parent, "pathspec"),
                      (Path(psycopg.__file__).parent, "psycopg")):
        shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.pyc"))
    (root / "tenantlint.toml").write_text(
        'tenant-tables = ["t", "x", "y", "tbl", "table", "foo", "bar", "users", "orders", "a", "b"]\n')
    return root


def test_screens_change_nothing_on_real_code(tmp_path, monkeypatch):
    root = _real_corpus(tmp_path)
    screened = _findings(root, monkeypatch, True)
    assert screened == _findings(root, monkeypatch, False)
    # the corpus exercises both paths: files the SQL screen lets through and files it skips
    sources = [p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*.py")]
    sql = next(c for c in CHECKERS if c.__name__ == "SqlChecker")
    wants = [sql.wants(s, None, None) for s in sources]
    assert len(sources) > 100 and 10 < sum(wants) < len(sources) - 10


def test_django_sdist_if_benchmarked(monkeypatch):
    """The benchmark's Django tree, when bench/run has fetched it (not in CI)."""
    root = REPO / "bench" / ".work" / "django-5.2.19"
    if not (root / "django").is_dir():
        pytest.skip("run bench/run first to fetch the Django sdist")
    screened = _findings(root, monkeypatch, True, jobs=2)
    assert len(screened) > 1000  # the benchmark config makes Django's own models tenant models
    assert screened == _findings(root, monkeypatch, False, jobs=2)


def test_a_file_no_checker_wants_still_gets_tl001(tmp_path):
    (tmp_path / "bad.py").write_text("def broken(:\n    pass\n")
    assert not wanted("def broken(:\n    pass\n", None, None, [c for c in CHECKERS if c.__name__ == "SqlChecker"])
    report = scan_paths(["."], cwd=tmp_path)
    assert [(d.path, d.code) for d in report.diagnostics] == [("bad.py", "TL001")]


def test_sql_screen_sees_every_way_sql_starts():
    sql = next(c for c in CHECKERS if c.__name__ == "SqlChecker")
    hits = ['q = "SELECT 1"', "q = '''\n   select *", 'q = "\\n  -- note\\n  update t set"',
            'q = f"( /* hint */ WITH a AS"', 'q = r"\\\n DELETE FROM t"', "q = ('INSERT INTO t' ' VALUES')",
            'cur.execute("set search_path to x")', 'q = b"ALTER TABLE t"']
    misses = ['x = "selection"', 'x = "{} and"', "# nothing here\nx = 1\n", 'x = "settings"']
    assert all(sql.wants(h, None, None) for h in hits)
    assert not any(sql.wants(m, None, None) for m in misses)
