"""`tenantlint scan`: options and exit codes through CliRunner, plus one real subprocess run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from clihelp import PROJECT, run

EXPECTED = {("app/orders.py", 10, "TL101"), ("app/orders.py", 16, "TL104"), ("app/reports.py", 6, "TL301"),
            ("app/reports.py", 8, "TL102")}


def found(result) -> set[tuple[str, int, str]]:
    return {(d["path"], d["line"], d["code"]) for d in json.loads(result.stdout)["diagnostics"]}


def test_findings_exit_1_and_suppressed_left_out():
    result = run(["scan", "--format", "json"], PROJECT)
    assert result.exit_code == 1
    assert found(result) == EXPECTED
    assert json.loads(result.stdout)["summary"]["suppressed"] == 1


def test_clean_scan_exits_0(project: Path):
    result = run(["scan", "app/db.py"], project)
    assert result.exit_code == 0, result.output
    assert "No findings in 1 file" in result.stdout


def test_exit_zero():
    assert run(["scan", "--exit-zero"], PROJECT).exit_code == 0


def test_fail_on_error_ignores_warnings():
    # TL104 is the only warning: alone, it fails with the default --fail-on warning only.
    assert run(["scan", "--select", "TL104"], PROJECT).exit_code == 1
    assert run(["scan", "--select", "TL104", "--fail-on", "error"], PROJECT).exit_code == 0
    assert run(["scan", "--fail-on", "error"], PROJECT).exit_code == 1


def test_select_and_ignore():
    assert found(run(["scan", "--format", "json", "--select", "TL101"], PROJECT)) == {("app/orders.py", 10, "TL101")}
    assert found(run(["scan", "--format", "json", "--ignore", "TL10"], PROJECT)) == {("app/reports.py", 6, "TL301")}


def test_unknown_code_in_select_is_a_usage_error():
    result = run(["scan", "--select", "TL999"], PROJECT)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["tenantlint: error: --select: unknown rule code `TL999`"]
    assert run(["scan", "--ignore", "XX1"], PROJECT).exit_code == 2


def test_missing_path_is_exit_2():
    result = run(["scan", "nope/"], PROJECT)
    assert result.exit_code == 2
    assert "path does not exist: nope/" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_config_key_names_it(project: Path):
    (project / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\ntenant-colums = ["x"]\n')
    result = run(["scan"], project)
    assert result.exit_code == 2
    assert "`tenant-colums`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_explicit_config(project: Path):
    (project / "other.toml").write_text('global-tables = ["plans", "orders"]\n')
    result = run(["scan", "--config", "other.toml", "--format", "json"], project)
    assert ("app/orders.py", 10, "TL101") not in found(result)
    assert run(["scan", "--config", "missing.toml"], project).exit_code == 2


def test_output_file_and_also(project: Path):
    result = run(["scan", "--output", "report.json", "--format", "json",
                  "--also", "sarif:report.sarif"], project)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert {(d["path"], d["line"], d["code"]) for d in json.loads((project / "report.json").read_text())["diagnostics"]} == EXPECTED
    (project / "out").mkdir()
    result = run(["scan", "--also", "sarif:out/report.sarif", "--also", "github:report.gh"], project)
    assert result.stdout.startswith("app/orders.py:10:17: TL101")  # text on stdout as usual
    sarif = json.loads((project / "out" / "report.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 4
    assert (project / "report.gh").read_text().startswith("::error file=app/orders.py")


def test_also_rejects_bad_values():
    for bad in ("sarif", "xml:out.xml", "json:"):
        result = run(["scan", "--also", bad], PROJECT)
        assert result.exit_code == 2, bad
        assert "--also expects FORMAT:FILE" in result.stderr


def test_unwritable_output_is_exit_2(project: Path):
    result = run(["scan", "--output", "no/such/dir/report.txt"], project)
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_quiet_drops_the_summary():
    result = run(["scan", "--quiet"], PROJECT)
    assert "Found" not in result.stdout
    assert len(result.stdout.splitlines()) == 4


def test_statistics_table():
    result = run(["scan", "--statistics"], PROJECT)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["count", "code", "name", "severity"]
    assert [line.split()[:2] for line in lines[1:5]] == [["1", "TL101"], ["1", "TL102"], ["1", "TL104"], ["1", "TL301"]]
    assert lines[-1].startswith("Found 4 findings")
    assert result.exit_code == 1


def test_show_settings_and_files(project: Path):
    result = run(["scan", "--show-settings"], project)
    assert result.exit_code == 0
    assert 'global-tables = ["plans"]' in result.stdout
    assert 'allow-raw-connections = ["app/db.py"]' in result.stdout
    result = run(["scan", "--show-files"], project)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["app/__init__.py", "app/db.py", "app/orders.py", "app/reports.py",
                                          "schema.sql"]
    (project / "tenantlint.toml").write_text('extend-exclude = ["app/reports.py"]\n')
    assert "app/reports.py" not in run(["scan", "--show-files"], project).stdout
    # Named explicitly, an excluded file is scanned unless --force-exclude (as ruff).
    assert run(["scan", "--show-files", "app/reports.py"], project).stdout == "app/reports.py\n"
    assert run(["scan", "--show-files", "--force-exclude", "app/reports.py"], project).stdout == ""


def test_no_color_off_a_tty():
    result = run(["scan"], PROJECT)
    assert "\033[" not in result.stdout


def test_warn_unused_ignores(project: Path):
    orders = project / "app" / "orders.py"
    orders.write_text(orders.read_text().replace(
        'cur.execute("SELECT id, name FROM plans")', 'cur.execute("SELECT id, name FROM plans")  # tenantlint: ignore[TL101] why'))
    result = run(["scan", "--format", "json", "--warn-unused-ignores"], project)
    assert ("app/orders.py", 29, "TL003") in found(result)
    assert all(code != "TL003" for _p, _l, code in found(run(["scan", "--format", "json"], project)))


def test_require_reason(project: Path):
    orders = project / "app" / "orders.py"
    orders.write_text(orders.read_text().replace("ignore[TL101] admin report, all tenants", "ignore[TL101]"))
    (project / "tenantlint.toml").write_text(
        (project / "tenantlint.toml").read_text() + "require-reason = true\n")
    assert ("app/orders.py", 24, "TL003") in found(run(["scan", "--format", "json"], project))


def test_per_file_ignores(project: Path):
    (project / "tenantlint.toml").write_text(
        (project / "tenantlint.toml").read_text() + '[per-file-ignores]\n"app/orders.py" = ["TL1"]\n')
    assert found(run(["scan", "--format", "json"], project)) == {("app/reports.py", 8, "TL102"),
                                                                 ("app/reports.py", 6, "TL301")}


def test_subset_of_files_answers_like_a_full_scan():
    """What pre-commit does: name a few files. The catalog still comes from the whole
    project (schema.sql is not named), so each file's findings equal the full scan's."""
    full = found(run(["scan", "--format", "json"], PROJECT))
    for name in ("app/orders.py", "app/reports.py"):
        part = found(run(["scan", "--format", "json", "--force-exclude", name], PROJECT))
        assert part == {f for f in full if f[0] == name}
        assert part


def test_real_subprocess_run(tmp_path: Path):
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--format", "json", "."], cwd=PROJECT,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert {(d["path"], d["line"], d["code"]) for d in json.loads(proc.stdout)["diagnostics"]} == EXPECTED
    assert proc.stderr == ""
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "--select", "NOPE"], cwd=PROJECT,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
