"""`tenantlint why PATH:LINE`: the verdict on each query or store call of a line and what
decided it, from the same per-file analysis as `scan` (SQL, ORM, stores, schema)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import DATA, copy_tree, run


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return copy_tree(DATA / "why_project", tmp_path / "why_project")


def line_of(project: Path, rel: str, needle: str) -> int:
    lines = (project / rel).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def why(project: Path, rel: str, needle: str, *extra) -> str:
    result = run(["why", f"{rel}:{line_of(project, rel, needle)}", *extra], project)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_sql_scoped_names_the_predicate(proj: Path):
    out = why(proj, "app/queries.py", "WHERE tenant_id = %s AND id")
    assert "sql `invoices`: scoped: anchored by `tenant_id = ?`" in out
    assert "TL1" not in out


def test_sql_unscoped_says_what_the_where_holds(proj: Path):
    out = why(proj, "app/queries.py", "WHERE period = %s")
    assert "TL101 sql-unscoped-query" in out
    assert "`invoices` has no `tenant_id` predicate; its conditions hold `period`" in out


def test_sql_global_table(proj: Path):
    assert "sql `plans`: not judged: a global table" in why(proj, "app/queries.py", "FROM plans")


def test_sql_scope_provider(proj: Path):
    line = line_of(proj, "app/queries.py", "with tenant_scope") + 1
    out = run(["why", f"app/queries.py:{line}"], proj).stdout
    assert "sql `usage_events`: scoped: inside a scope provider (scope-providers)" in out


def test_suppressed_finding_names_its_comment(proj: Path):
    out = why(proj, "app/queries.py", "tenantlint: ignore[TL101]")
    line = line_of(proj, "app/queries.py", "tenantlint: ignore[TL101]")
    assert f"[suppressed by the comment on line {line}: nightly export, reviewed in SEC-7]" in out


def test_orm_scoped_by_a_lookup_and_unscoped(proj: Path):
    line = line_of(proj, "app/queries.py", "filter(tenant=request.tenant)")
    out = why(proj, "app/queries.py", "filter(tenant=request.tenant)")
    assert f"orm `Project`: scoped: a tenant lookup in `.filter(tenant=request.tenant)` (app/queries.py:{line})" in out
    out = why(proj, "app/queries.py", "Project.objects.all()")
    assert "TL201 orm-unscoped-query" in out
    assert "orm `Project`: unscoped: no tenant lookup" in out


def test_orm_escape_hatch_is_named(proj: Path):
    out = why(proj, "app/queries.py", "_base_manager")
    assert "TL201" in out and "it runs under scopes_disabled()" in out


def test_stores_scoped_and_unscoped(proj: Path):
    out = why(proj, "app/queries.py", 'f"tenant:{tenant_id}:name"')
    assert 'stores `cache.get`: scoped: cache key `f"tenant:{tenant_id}:name"` has a tenant component' in out
    out = why(proj, "app/queries.py", 'cache.get("name")')
    assert "TL401 cache-key-unscoped" in out and 'stores `cache.get`: unscoped: cache key `"name"`' in out


def test_schema_protected_and_unprotected_tables(proj: Path):
    out = why(proj, "db/schema.sql", "CREATE TABLE invoices")
    assert "schema `invoices`: scoped: ENABLE ROW LEVEL SECURITY (db/schema.sql:4)" in out
    assert "schema `invoices`: scoped: a policy on the tenant column (db/schema.sql:6)" in out
    out = why(proj, "db/schema.sql", "CREATE TABLE usage_events")
    assert "TL501 rls-not-enabled" in out and "TL504 tenant-index-missing" in out
    assert "schema `usage_events`: unscoped: no ENABLE ROW LEVEL SECURITY" in out


def test_line_with_nothing_on_it(proj: Path):
    out = why(proj, "app/queries.py", "from django_scopes import")
    assert "no query or store call here that tenantlint judges, and no finding" in out


def test_json(proj: Path):
    data = json.loads(why(proj, "app/queries.py", "tenantlint: ignore[TL101]", "--format", "json"))
    assert data["path"] == "app/queries.py"
    assert data["findings"][0]["code"] == "TL101"
    assert data["findings"][0]["suppressed"] is True
    assert data["findings"][0]["suppression"]["reason"] == "nightly export, reviewed in SEC-7"
    assert data["decisions"][0]["family"] == "sql" and data["decisions"][0]["verdict"] == "unscoped"


@pytest.mark.parametrize("target", ["app/queries.py", "app/queries.py:x", "app/queries.py:0", "nope.py:3",
                                    "app/queries.py:9999"])
def test_bad_target_is_exit_2(proj: Path, target: str):
    result = run(["why", target], proj)
    assert result.exit_code == 2
    assert result.stderr.startswith("tenantlint: error: ") and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_why_does_not_change_the_scan(proj: Path):
    """The trace is an explanation: the findings `why` shows are those `scan` reports."""
    scan = json.loads(run(["scan", "--format", "json", "--no-cache"], proj).stdout)["diagnostics"]
    for diag in scan:
        if not diag["path"].endswith(".py"):
            continue
        data = json.loads(run(["why", f"{diag['path']}:{diag['line']}", "--format", "json"], proj).stdout)
        assert diag["code"] in {f["code"] for f in data["findings"]}


def test_session_settings_say_whether_they_carry_the_tenant(tmp_path: Path):
    proj = copy_tree(DATA / "why_project", tmp_path / "p")
    (proj / "app" / "settings.py").write_text(
        'def tune(cur):\n    cur.execute("SET cz.storage.write_buffer_size = 1")\n\n\n'
        'def session(cur, t):\n    cur.execute("SET app.tenant_id = %s", (t,))\n')
    out = run(["why", "app/settings.py:2"], proj).stdout
    assert "sql `SET cz.storage.write_buffer_size`: not judged: not tenant state" in out
    out = run(["why", "app/settings.py:6"], proj).stdout
    assert "TL105" in out
    assert ("sql `SET app.tenant_id`: unscoped: tenant state (read by the project with current_setting()), "
            "set for the session: it outlives the transaction (db/schema.sql:6)") in out


def test_a_table_without_tenant_column_says_where_it_is_defined(proj: Path):
    """"Why didn't it flag X?": X's table is known, without a tenant column."""
    with (proj / "db" / "schema.sql").open("a") as schema:
        schema.write("CREATE TABLE audit_log (id bigint, what text);\n")
    (proj / "app" / "audit.py").write_text('def f(cur):\n    cur.execute("SELECT * FROM audit_log")\n')
    out = run(["why", "app/audit.py:2"], proj).stdout
    assert "sql `audit_log`: not judged: defined without a `tenant_id` column (db/schema.sql:9)" in out
    data = json.loads(run(["catalog", "--format", "json"], proj).stdout)
    assert {"name": "audit_log", "source": "db/schema.sql:9 (sql)"} in data["other_tables"]


def test_an_unscoped_query_handed_to_a_helper_names_it(proj: Path):
    with (proj / "app" / "queries.py").open("a") as queries:
        queries.write("\n\ndef restricted(request):\n    qs = Project.objects.all()\n"
                      "    qs = restrict_to_tenant(qs, request)\n    return list(qs)\n")
    line = line_of(proj, "app/queries.py", "qs = Project.objects.all()")
    out = run(["why", f"app/queries.py:{line}"], proj).stdout
    assert "TL201" in out
    assert (f"it is handed to `restrict_to_tenant()` (line {line + 1}), not known to scope it "
            "(if it adds the tenant filter, list it in scope-providers)") in out


def test_a_file_outside_the_project_is_exit_2(proj: Path, tmp_path: Path):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    result = run(["why", f"{outside}:1"], proj)
    assert result.exit_code == 2 and "outside the project root" in result.stderr


def test_a_model_without_tenant_column_says_so(proj: Path):
    with (proj / "app" / "models.py").open("a") as models:
        models.write('\n\nclass Note(models.Model):\n    text = models.TextField()\n\n'
                     '    class Meta:\n        db_table = "notes"\n')
    with (proj / "app" / "queries.py").open("a") as queries:
        queries.write("\n\ndef notes():\n    from app.models import Note\n    return list(Note.objects.all())\n")
    line = line_of(proj, "app/queries.py", "Note.objects.all()")
    out = run(["why", f"app/queries.py:{line}"], proj).stdout
    note = line_of(proj, "app/models.py", "class Note")
    assert f"orm `Note`: not judged: not a tenant model: it has no `tenant_id` column (app/models.py:{note})" in out
    data = json.loads(run(["catalog", "--format", "json"], proj).stdout)
    assert {"name": "Note", "source": f"app/models.py:{note}"} in data["other_models"]


def test_orm_scoped_by_a_trusted_parent_key_says_so(tmp_path: Path):
    """A query scoped because its parent key equals an id verified under scope is not
    explained as a tenant condition."""
    project = copy_tree(Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "orm_optional_rows",
                        tmp_path / "notes_project")
    out = why(project, "notes/manager.py", "rows = await session.execute(select(Page.title).where(")
    assert "scoped: a parent or primary key equal to a trusted id in `.where(Page.notebook_id == notebook_id)`" \
        in out
    out = why(project, "notes/manager.py", ".where(NotebookModel.organization_id == actor.organization_id)")
    assert "scoped: a tenant condition in `.where(NotebookModel.organization_id == actor.organization_id)`" in out
