"""`tenantlint catalog`: what the catalog pass knows and where each fact came from."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import DATA, copy_tree, run


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return copy_tree(DATA / "why_project", tmp_path / "why_project")


def test_text_lists_each_fact_with_its_source(proj: Path):
    result = run(["catalog"], proj)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "tenant columns: tenant_id" in out
    assert "  invoices [tenant_id]: db/schema.sql:2 (sql)" in out
    assert "  app_project [tenant_id]: app/models.py:8 (django)" in out
    assert "  Project (django, table app_project) [tenant_id]: app/models.py:8" in out
    assert "  plans: config global-tables" in out
    assert ("  invoices: enabled, forced, tenant_policy, with_check [enabled at db/schema.sql:4; "
            "forced at db/schema.sql:5; policy at db/schema.sql:6]") in out
    assert "  app.db.tenant_scope: config scope-providers" in out
    assert "  app/db.py: app/db.py" in out  # allow-raw-connections and what it matched


def test_escape_hatches(proj: Path):
    out = run(["catalog"], proj).stdout
    queries = (proj / "app" / "queries.py").read_text().splitlines()
    base = next(i for i, t in enumerate(queries, 1) if "_base_manager" in t)
    ignore = next(i for i, t in enumerate(queries, 1) if "tenantlint: ignore" in t)
    assert f"  base_manager Project._base_manager: app/queries.py:{base}" in out
    assert f"  scopes_disabled scopes_disabled(): app/queries.py:{base - 1}" in out
    assert f"  suppression TL101: app/queries.py:{ignore} - nightly export, reviewed in SEC-7" in out


def test_json(proj: Path):
    data = json.loads(run(["catalog", "--format", "json"], proj).stdout)
    assert data["version"] == 1
    tables = {t["name"]: t for t in data["tenant_tables"]}
    assert set(tables) == {"invoices", "usage_events", "app_project"}
    assert tables["invoices"]["sources"] == ["db/schema.sql:2 (sql)"]
    assert data["tenant_models"][0]["source"] == "app/models.py:8"
    assert {"name": "app.tenant_id", "source": "db/schema.sql:6"} in data["settings_read"]
    rls = {r["table"]: r for r in data["rls"]}
    assert rls["invoices"]["enabled"] and rls["invoices"]["forced"] and not rls["usage_events"]["enabled"]
    assert data["allow_raw_connections"] == [{"entry": "app/db.py", "matches": ["app/db.py"]}]
    kinds = sorted(e["kind"] for e in data["escape_hatches"])
    assert kinds == ["base_manager", "scopes_disabled", "suppression"]


def test_plain_manager_beside_a_scoped_one_is_an_escape(proj: Path):
    models = proj / "app" / "models.py"
    models.write_text(models.read_text().replace(
        "class Project(models.Model):\n",
        "class Project(models.Model):\n    objects = ScopedManager(tenant='tenant')\n    all_objects = models.Manager()\n")
        .replace("from django.db import models\n", "from django.db import models\nfrom django_scopes import ScopedManager\n"))
    data = json.loads(run(["catalog", "--format", "json"], proj).stdout)
    assert {"kind": "plain_manager", "source": "app/models.py:9", "detail": "Project.all_objects",
            "reason": ""} in data["escape_hatches"]


def test_bad_config_is_exit_2(proj: Path):
    (proj / "tenantlint.toml").write_text("tenant-columns = [\n")
    result = run(["catalog"], proj)
    assert result.exit_code == 2 and result.stderr.startswith("tenantlint: error: ")
