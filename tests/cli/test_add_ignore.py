"""`--add-ignore REASON`: a suppression on every current finding, idempotent, merging
codes into an existing directive, never inside a multi-line string."""
from __future__ import annotations

import json
from pathlib import Path

from clihelp import run


def findings(project: Path) -> list:
    return json.loads(run(["scan", "--format", "json"], project).stdout)["diagnostics"]


def test_silences_everything_and_is_idempotent(project: Path):
    result = run(["scan", "--add-ignore", "legacy, see SEC-42"], project)
    assert result.exit_code == 0
    assert "added 4 suppressions in 2 files" in result.stderr
    assert findings(project) == []
    orders = (project / "app" / "orders.py").read_text()
    assert ('cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))  '
            '# tenantlint: ignore[TL101] legacy, see SEC-42\n') in orders
    before = {p: p.read_bytes() for p in project.rglob("*.py")}
    again = run(["scan", "--add-ignore", "legacy, see SEC-42"], project)
    assert "added 0 suppressions in 0 files" in again.stderr
    assert {p: p.read_bytes() for p in project.rglob("*.py")} == before
    # With require-reason the added comments are valid suppressions.
    (project / "tenantlint.toml").write_text((project / "tenantlint.toml").read_text() + "require-reason = true\n")
    assert findings(project) == []


def test_merges_codes_into_an_existing_directive(project: Path):
    reports = project / "app" / "reports.py"
    text = reports.read_text().replace(", (1,))\n", ", (1,))  # tenantlint: ignore[TL104] joined elsewhere\n")
    reports.write_text(text)
    run(["scan", "--add-ignore", "bulk"], project)
    assert "# tenantlint: ignore[TL102,TL104] joined elsewhere\n" in reports.read_text()
    assert "psycopg2.connect(\"postgresql://app@localhost/app\")  # tenantlint: ignore[TL301] bulk\n" in reports.read_text()
    assert findings(project) == []


def test_multiline_string_gets_the_comment_outside_it(project: Path):
    jobs = project / "app" / "jobs.py"
    jobs.write_text('def job(cur):\n    cur.execute("""\n        SELECT * FROM orders\n    """)\n')
    assert [d["line"] for d in findings(project) if d["path"] == "app/jobs.py"] == [2]
    run(["scan", "--add-ignore", "reviewed", "app/jobs.py"], project)
    assert jobs.read_text() == ('def job(cur):\n    cur.execute("""\n        SELECT * FROM orders\n'
                                '    """)  # tenantlint: ignore[TL101] reviewed\n')
    assert [d for d in findings(project) if d["path"] == "app/jobs.py"] == []


def test_sql_files_get_sql_comments(project: Path):
    (project / "reports.sql").write_text("SELECT * FROM orders;\n")
    run(["scan", "--add-ignore", "ad hoc report"], project)
    assert (project / "reports.sql").read_text() == "SELECT * FROM orders;  -- tenantlint: ignore[TL101] ad hoc report\n"
    assert findings(project) == []


def test_needs_a_reason_and_excludes_write_baseline(project: Path):
    assert run(["scan", "--add-ignore", " "], project).exit_code == 2
    result = run(["scan", "--add-ignore", "x", "--write-baseline", "b.json"], project)
    assert result.exit_code == 2 and "pick one" in result.stderr


def test_existing_comments_are_kept_and_backslash_lines_skipped(tmp_path: Path):
    (tmp_path / "tenantlint.toml").write_text('tenant-tables = ["orders"]\n')
    source = (
        "def f(cur, x):\n"
        "    with cur.execute(\"\"\"\n"
        "    DELETE FROM orders\"\"\"):  # existing note\n"
        "        pass\n"
        "    cur.execute(\"SELECT * FROM orders WHERE id = %s\" \\\n"
        "                , (x,))\n"
    )
    (tmp_path / "a.py").write_text(source)
    run(["scan", "--no-cache", "--add-ignore", "legacy", "."], tmp_path)
    lines = (tmp_path / "a.py").read_text().splitlines()
    assert lines[2].endswith('"""):  # existing note  # tenantlint: ignore[TL101] legacy')
    assert lines[4].endswith("\\") and lines[5].endswith(", (x,))  # tenantlint: ignore[TL101] legacy")
    assert run(["scan", "--no-cache", "."], tmp_path).exit_code == 0
