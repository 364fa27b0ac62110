"""Baselines: `--write-baseline` then `--baseline`. Fingerprints, not lines: a moved
finding stays silenced, a new identical one is reported, a fixed one is listed stale."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from clihelp import PROJECT, SEED, SEED_MISSING, copy_tree, run

NEW_QUERY = '''

def leak_again(db):
    return db.execute(text("SELECT * FROM orders")).fetchall()
'''


def codes(result) -> list[tuple[str, int, str]]:
    return sorted((d["path"], d["line"], d["code"]) for d in json.loads(result.stdout)["diagnostics"])


def _suites():
    yield pytest.param(PROJECT, "app/orders.py", id="fixture-project")
    yield pytest.param(SEED, "billing/orders.py", id="seed",
                       marks=pytest.mark.skipif(not SEED.is_dir(), reason=SEED_MISSING))


@pytest.mark.parametrize("suite, victim", list(_suites()))
def test_issue_scenario(tmp_path: Path, suite: Path, victim: str):
    """The issue's Done-when: a baseline silences everything; ten blank lines at the top
    of a file keep it silent; one new unscoped query gives exactly one finding."""
    tree = copy_tree(suite, tmp_path / "suite")
    before = run(["scan", "--format", "json"], tree)
    assert before.exit_code == 1 and codes(before)
    written = run(["scan", "--write-baseline", "baseline.json"], tree)
    assert written.exit_code == 0
    assert "wrote" in written.stderr

    silent = run(["scan", "--baseline", "baseline.json", "--format", "json"], tree)
    assert silent.exit_code == 0, silent.stdout
    assert codes(silent) == []
    assert json.loads(silent.stdout)["summary"]["baselined"] == len(codes(before))

    path = tree / victim
    path.write_text("\n" * 10 + path.read_text())
    moved = run(["scan", "--baseline", "baseline.json", "--format", "json"], tree)
    assert codes(moved) == [] and moved.exit_code == 0

    source = path.read_text()
    if "from sqlalchemy import text" not in source and "text(" not in source:
        source = "from sqlalchemy import text\n" + source
    path.write_text(source + NEW_QUERY)
    new = run(["scan", "--baseline", "baseline.json", "--format", "json"], tree)
    assert new.exit_code == 1
    found = codes(new)
    assert len(found) == 1, found
    assert found[0][0] == victim and found[0][2] == "TL101"


def test_identical_finding_in_the_same_place_is_new(project: Path):
    """Two identical statements in one function differ only by occurrence index."""
    run(["scan", "--write-baseline", "b.json"], project)
    orders = project / "app" / "orders.py"
    line = '    cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))\n'
    text = orders.read_text()
    assert line in text
    orders.write_text(text.replace(line, line + line))
    result = run(["scan", "--baseline", "b.json", "--format", "json"], project)
    assert codes(result) == [("app/orders.py", 11, "TL101")]


def test_fixed_findings_are_stale(project: Path):
    run(["scan", "--write-baseline", "b.json"], project)
    reports = project / "app" / "reports.py"
    reports.write_text(reports.read_text().replace("sku = 'x' OR tenant_id", "sku = 'x' AND tenant_id"))
    result = run(["scan", "--baseline", "b.json"], project)
    assert result.exit_code == 0
    assert "Baseline: 1 entry no longer matches a finding (fixed)" in result.stdout
    assert "app/reports.py TL102" in result.stdout
    assert json.loads(run(["scan", "--baseline", "b.json", "--format", "json"], project).stdout)[
        "summary"]["stale_baseline"][0].startswith("app/reports.py TL102")
    # Rewriting drops it.
    run(["scan", "--baseline", "b.json", "--write-baseline", "b.json"], project)
    entries = json.loads((project / "b.json").read_text())["findings"]
    assert [e["code"] for e in entries] == ["TL101", "TL104", "TL301"]
    assert "Baseline" not in run(["scan", "--baseline", "b.json"], project).stdout


def test_baseline_file_is_sorted_and_versioned(project: Path):
    run(["scan", "--write-baseline", "b.json"], project)
    data = json.loads((project / "b.json").read_text())
    assert data["version"] == 1
    keys = [(e["path"], e["code"], e["fingerprint"]) for e in data["findings"]]
    assert keys == sorted(keys) and len(keys) == 4
    assert all("line" not in e for e in data["findings"])  # lines would churn the diff
    first = (project / "b.json").read_text()
    run(["scan", "--write-baseline", "b.json"], project)
    assert (project / "b.json").read_text() == first


def test_partial_scan_keeps_other_files_entries(project: Path):
    """Rewriting from a scan of one file keeps the other files' entries (not judged),
    and a scan of one file does not call the other files' entries stale."""
    run(["scan", "--write-baseline", "b.json"], project)
    assert "Baseline" not in run(["scan", "--baseline", "b.json", "app/orders.py"], project).stdout
    run(["scan", "--write-baseline", "b.json", "app/orders.py"], project)
    assert len(json.loads((project / "b.json").read_text())["findings"]) == 4
    (project / "app" / "reports.py").unlink()  # a deleted file's entries go
    run(["scan", "--write-baseline", "b.json", "app/orders.py"], project)
    assert len(json.loads((project / "b.json").read_text())["findings"]) == 2


def test_bad_baselines_are_exit_2(project: Path):
    assert "baseline not found" in run(["scan", "--baseline", "missing.json"], project).stderr
    (project / "b.json").write_text("{not json")
    result = run(["scan", "--baseline", "b.json"], project)
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    (project / "b.json").write_text('{"version": 99, "findings": []}')
    assert run(["scan", "--baseline", "b.json"], project).exit_code == 2
