"""`tenantlint explain` by code or by name, and unknown config keys with a hint and a line."""
from __future__ import annotations

from clihelp import run


def test_explain_by_code_and_by_name_print_the_same(tmp_path):
    by_code, by_name = run(["explain", "TL101"], tmp_path), run(["explain", "sql-unscoped-query"], tmp_path)
    assert by_code.exit_code == by_name.exit_code == 0
    assert by_name.stdout == by_code.stdout
    assert by_name.stdout.startswith("# TL101 sql-unscoped-query")


def test_explain_unknown_rule_suggests_the_closest_name(tmp_path):
    result = run(["explain", "sql-unscopd-query"], tmp_path)
    assert result.exit_code == 2
    assert "did you mean `sql-unscoped-query`, TL101?" in result.stderr
    assert run(["explain", "TL999"], tmp_path).exit_code == 2


def test_unknown_config_key_gets_did_you_mean_and_its_line(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.tenantlint]\ntenant-columns = ["org_id"]\ntrust-scoped-manager = false\n',
        encoding="utf-8")
    result = run(["scan"], tmp_path)
    assert result.exit_code == 2
    assert "line 6: unknown key `trust-scoped-manager` (did you mean `trust-scoped-managers`?)" in result.stderr
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "tenantlint.toml").write_text('dialect = "postgres"\n\n[per-file-ignore]\n"x.py" = ["TL1"]\n',
                                              encoding="utf-8")
    result = run(["scan"], tmp_path)
    assert result.exit_code == 2
    assert "line 3: unknown key `per-file-ignore` (did you mean `per-file-ignores`?)" in result.stderr
