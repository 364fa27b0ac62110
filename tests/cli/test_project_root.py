"""The project root: the repository around the config (or around the current folder with
`--config`), never smaller; a scanned path outside it is exit 2; paths are relative to it."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from clihelp import run

SCHEMA = ("CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, total int);\n"
          "CREATE INDEX invoices_tenant ON invoices (tenant_id);\n")
QUERIES = '''\
def unscoped(cur):
    cur.execute("SELECT total FROM invoices WHERE id = %s", (1,))


def scoped(cur, tenant_id):
    cur.execute("SELECT total FROM invoices WHERE id = %s AND tenant_id = %s", (1, tenant_id))
'''
FINDING = ("app/queries.py", 2, "TL101")


def repository(folder: Path) -> Path:
    """A small project as users have it: a git repository, the schema in db/, code in app/."""
    (folder / "db").mkdir(parents=True)
    (folder / "app").mkdir()
    (folder / "db" / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    (folder / "app" / "queries.py").write_text(QUERIES, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


def found(result) -> set[tuple[str, int, str]]:
    assert result.exit_code in (0, 1), result.output
    return {(d["path"], d["line"], d["code"]) for d in json.loads(result.stdout)["diagnostics"]}


def test_a_config_in_a_subfolder_does_not_shrink_the_catalog(tmp_path):
    repo = repository(tmp_path / "repo")
    (repo / "ci").mkdir()
    (repo / "ci" / "tenantlint.toml").write_text('require-reason = true\n', encoding="utf-8")
    assert found(run(["scan", "--format", "json", "--config", "ci/tenantlint.toml", "."], repo)) == {FINDING}
    # Found by walking up from ci/ too: the project is still the repository.
    assert found(run(["scan", "--format", "json", "../app"], repo / "ci")) == {FINDING}


def test_a_shared_config_outside_the_repository(tmp_path):
    repo = repository(tmp_path / "repo")
    shared = tmp_path / "shared" / "tenantlint.toml"
    shared.parent.mkdir()
    shared.write_text('tenant-columns = ["tenant_id"]\n', encoding="utf-8")
    result = run(["scan", "--format", "json", "--config", str(shared), "."], repo)
    assert found(result) == {FINDING}
    result = run(["scan", "--format", "sarif", "--config", "../shared/tenantlint.toml"], repo)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert uris == {"app/queries.py"}


def test_scan_from_a_subfolder(tmp_path):
    repo = repository(tmp_path / "repo")
    (repo / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n', encoding="utf-8")
    app = repo / "app"
    assert found(run(["scan", "--format", "json", "queries.py"], app)) == {FINDING}
    assert found(run(["scan", "--format", "json", "--config", "../tenantlint.toml", "."], app)) == {FINDING}
    result = run(["scan", "--format", "github", "queries.py"], app)
    assert "file=app/queries.py," in result.stdout


def test_a_scanned_path_outside_the_project_is_exit_2(tmp_path):
    repo = repository(tmp_path / "repo")
    (repo / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n', encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.py").write_text("x = 1\n", encoding="utf-8")
    result = run(["scan", "../other/x.py"], repo)
    assert result.exit_code == 2
    assert "../other/x.py" in result.stderr and str(repo.resolve()) in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_an_empty_catalog_is_said_on_stderr(tmp_path):
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "views.py").write_text('SQL = "SELECT 1 FROM orders WHERE id = %s"\n', encoding="utf-8")
    (repo / "tenantlint.toml").write_text('tenant-columns = ["org_id", "team_id"]\n', encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    result = run(["scan", "--format", "json"], repo)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["diagnostics"] == []
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no tenant table, model or collection" in lines[0]
    assert str(repo.resolve()) in lines[0] and "org_id, team_id" in lines[0]
    # A project with tenant tables says nothing.
    assert run(["scan", "--format", "json"], repository(tmp_path / "full")).stderr == ""


def test_zero_files_scanned_is_said_on_stderr(tmp_path):
    repo = repository(tmp_path / "repo")
    (repo / "docs").mkdir()
    (repo / "docs" / "index.md").write_text("# docs\n", encoding="utf-8")
    result = run(["scan", "docs"], repo)
    assert result.exit_code == 0
    assert "no Python or SQL files found" in result.stderr


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks are not available on this system")
def test_force_exclude_matches_a_link_by_its_own_name(tmp_path):
    repo = repository(tmp_path / "repo")
    (repo / "lib").mkdir()
    (repo / "lib" / "real.py").write_text(QUERIES, encoding="utf-8")
    (repo / "app" / "link.py").symlink_to(repo / "lib" / "real.py")
    (repo / "tenantlint.toml").write_text('exclude = ["app/*"]\n', encoding="utf-8")
    result = run(["scan", "--format", "json", "--force-exclude", "app/link.py"], repo)
    assert found(result) == set()
    # Named without --force-exclude it is scanned, and reported under its own name.
    result = run(["scan", "--format", "json", "app/link.py"], repo)
    assert found(result) == {("app/link.py", 2, "TL101")}


def test_globs_of_a_subproject_config_may_be_relative_to_its_folder(tmp_path):
    """A config below the root (a service's own pyproject.toml in a monorepo) keeps its
    globs' meaning: relative to its folder, as in ruff, or to the project root."""
    repo = repository(tmp_path / "repo")
    service = repo / "services" / "api"
    service.mkdir(parents=True)
    (service / "queries.py").write_text(QUERIES, encoding="utf-8")
    (service / "db.py").write_text("import psycopg2\n\nconn = psycopg2.connect(dbname='x')\n", encoding="utf-8")
    (service / "tenantlint.toml").write_text(
        'allow-raw-connections = ["db.py"]\nper-file-ignores = { "queries.py" = ["TL101"] }\n', encoding="utf-8")
    assert found(run(["scan", "--format", "json", "."], service)) == set()
    (service / "tenantlint.toml").write_text('allow-raw-connections = ["services/api/db.py"]\n', encoding="utf-8")
    assert found(run(["scan", "--format", "json", "."], service)) == {("services/api/queries.py", 2, "TL101")}
