"""`tenantlint init`: a starter section with the discovered tenant tables and models,
global-looking tables commented for review, per-file-ignores for tests and migrations."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clihelp import run
from tenantlint.config import load_settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA = """
CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT);
CREATE TABLE plans (id SERIAL PRIMARY KEY, name TEXT);
CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, tenant_id UUID NOT NULL, total NUMERIC);
CREATE TABLE invoices (id BIGSERIAL PRIMARY KEY, tenant_id UUID NOT NULL);
"""
MODELS = """
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Currency(Base):
    __tablename__ = "currencies"
    code = Column(String, primary_key=True)


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, nullable=False)
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "schema.sql").write_text(SCHEMA)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(MODELS)
    return tmp_path


def test_writes_tenantlint_toml_without_pyproject(app: Path):
    result = run(["init"], app)
    assert result.exit_code == 0, result.output
    text = (app / "tenantlint.toml").read_text()
    data = tomllib.loads(text)
    assert {"orders", "invoices"} <= set(data["tenant-tables"])
    assert data["tenant-columns"] == ["tenant_id"]
    assert "global-tables" not in data  # listed for review, commented out
    for shared in ("countries", "plans"):
        assert f'#     "{shared}",' in text
    assert "orders" not in text.split("global-tables")[1].split("scope-providers")[0]
    assert "tests/*" in data["per-file-ignores"] and "*migrations/*" in data["per-file-ignores"]
    assert "*alembic/env.py" in data["per-file-ignores"]  # the migration runner opens its own connection
    assert "TL501" not in str(data["per-file-ignores"])
    settings = load_settings(app / "tenantlint.toml")  # valid config (unknown keys would raise)
    assert ("tests/*", ("TL101", "TL102", "TL103", "TL104", "TL2", "TL301", "TL4")) in settings.per_file_ignores
    # The starter config scans cleanly as a config (exit 0 or 1, never 2).
    assert run(["scan"], app).exit_code in (0, 1)


def test_models_are_discovered_when_the_orm_discoverer_is_there(app: Path):
    run(["init"], app)
    text = (app / "tenantlint.toml").read_text()
    data = tomllib.loads(text)
    if not data["tenant-models"]:
        pytest.skip("SQLAlchemy model discovery is not in this build yet")
    assert any(m.endswith("Customer") for m in data["tenant-models"])
    assert "customers" in data["tenant-tables"]
    assert '#     "currencies",' in text


CHILD = """
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, nullable=False)


class Payment(Base):
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)


def payments(session, customer_id):
    return session.query(Payment).filter(Payment.customer_id == customer_id).all()
"""


def test_models_tenant_through_a_parent_stay_discovered_not_listed(tmp_path: Path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(CHILD)
    run(["init", "--tenant-columns", "tenant_id"], tmp_path)
    data = tomllib.loads((tmp_path / "tenantlint.toml").read_text())
    assert [m.rsplit(".", 1)[-1] for m in data["tenant-models"]] == ["Customer"]
    # With the written config the child is still judged through its parent key.
    out = run(["scan", "--format", "json", "--no-cache"], tmp_path).output
    assert "filter on `customer_id`" in out and "filter on `tenant_id`" not in out


def test_appends_to_pyproject_and_never_clobbers(app: Path):
    original = '[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 100\n'
    (app / "pyproject.toml").write_text(original)
    assert run(["init"], app).exit_code == 0
    text = (app / "pyproject.toml").read_text()
    assert text.startswith(original)
    data = tomllib.loads(text)
    assert data["tool"]["ruff"] == {"line-length": 100}
    assert "orders" in data["tool"]["tenantlint"]["tenant-tables"]
    assert not (app / "tenantlint.toml").exists()
    assert load_settings(app / "pyproject.toml").tenant_tables


def test_refuses_an_existing_section_unless_forced(app: Path):
    (app / "pyproject.toml").write_text('[tool.tenantlint]\ntenant-columns = ["team_id"]\n\n[tool.black]\nline-length = 90\n')
    result = run(["init"], app)
    assert result.exit_code == 2
    assert result.stderr.strip() == ("tenantlint: error: pyproject.toml already has a [tool.tenantlint] section; "
                                     "use --force to replace it")
    assert run(["init", "--force"], app).exit_code == 0
    data = tomllib.loads((app / "pyproject.toml").read_text())
    assert data["tool"]["black"] == {"line-length": 90}
    assert data["tool"]["tenantlint"]["tenant-columns"] == ["tenant_id"]
    assert (app / "pyproject.toml").read_text().count("[tool.tenantlint]") == 1


def test_refuses_an_existing_tenantlint_toml(app: Path):
    (app / "tenantlint.toml").write_text("discover = true\n")
    assert run(["init"], app).exit_code == 2
    assert (app / "tenantlint.toml").read_text() == "discover = true\n"
    assert run(["init", "--force", "--tenant-columns", "tenant_id,org_id"], app).exit_code == 0
    assert tomllib.loads((app / "tenantlint.toml").read_text())["tenant-columns"] == ["tenant_id", "org_id"]


def _init(folder: Path, files: dict[str, str]):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / ".git").mkdir(exist_ok=True)
    result = run(["init"], folder)
    assert result.exit_code == 0, result.output
    text = (folder / "tenantlint.toml").read_text(encoding="utf-8")
    return result, text, tomllib.loads(text)


DDL = """
CREATE TABLE tenants (id BIGSERIAL PRIMARY KEY, name TEXT);
CREATE TABLE plans (id SERIAL PRIMARY KEY, name TEXT);
CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, tenant_id BIGINT NOT NULL REFERENCES tenants (id));
CREATE TABLE invoices (id BIGSERIAL PRIMARY KEY, tenant_id BIGINT NOT NULL, owner_id BIGINT);
CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, owner_id BIGINT, tenant_id BIGINT NOT NULL);
CREATE TABLE invoice_lines (id BIGSERIAL PRIMARY KEY, invoice_id BIGINT NOT NULL);
CREATE TABLE line_comments (id BIGSERIAL PRIMARY KEY, invoice_line_id BIGINT NOT NULL);
"""


def test_init_proposes_tenant_id_from_ddl(tmp_path: Path):
    result, text, data = _init(tmp_path, {"db/schema.sql": DDL, "app/__init__.py": ""})
    assert data["tenant-columns"] == ["tenant_id"]
    assert "# Proposed from the schema: `tenant_id` is on 3 of the 7 tables, a key to `tenants`." in text
    # An owner key never wins over a tenant key (see the SQLAlchemy case); it is the runner-up.
    assert "proposed tenant column: tenant_id (runner-up: owner_id)" in result.stderr
    assert set(data["tenant-tables"]) == {"orders", "invoices", "notes"}
    # invoice_lines reaches a tenant table through its key: not offered as global.
    assert '#     "plans",' in text and '#     "invoice_lines",' not in text
    assert "invoice_lines.invoice_id -> invoices" in text
    assert '#     "line_comments",' not in text  # two keys away from a tenant table


DJANGO = {
    "accounts/__init__.py": "",
    "accounts/models.py": """
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)


class Project(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)


class Annotation(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)


class Invite(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)


class Status(models.TextChoices):
    OPEN = "open"


class TimingMiddleware:
    pass


class AuditMiddleware(TimingMiddleware):
    pass
""",
    "accounts/serializers.py": """
from rest_framework import serializers

from accounts.models import Project


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
""",
    "accounts/tests/test_models.py": """
from django.db import models


class Scratch(models.Model):
    name = models.CharField(max_length=10)
""",
    "accounts/management/commands/backfill.py": "def handle():\n    pass\n",
    "accounts/tasks.py": "def nightly():\n    pass\n",
}


def test_init_proposes_the_organization_above_the_projects_from_django_fks(tmp_path: Path):
    result, text, data = _init(tmp_path, DJANGO)
    # project_id is on more tables, but a project belongs to an organization.
    assert data["tenant-columns"] == ["organization_id"]
    assert "`project_id`'s table itself belongs to one" in text
    assert "# Runner-up: `project_id` is on 3 of the 6 tables" in text
    assert "(runner-up: project_id)" in result.stderr
    # Only real tables are global-table candidates: no enum, middleware, serializer or test model.
    for name in ("status", "timingmiddleware", "auditmiddleware", "projectserializer", "scratch"):
        assert name not in text.lower().split("global-tables")[-1].split("scope-providers")[0]
    assert '#     "accounts_organization",' in text
    # Background code: suggested, commented out, with a TODO reason.
    assert '# "*/management/commands/*" = ["TL101", "TL201", "TL202"]  # TODO: why' in text
    assert '# "*/tasks.py" = ["TL101", "TL201", "TL202"]  # TODO: why' in text
    assert '"*/jobs/*"' not in text  # no such files
    assert "*/management/commands/*" not in data["per-file-ignores"]


SQLALCHEMY = {
    "app/models.py": """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base
from pydantic import BaseModel

Base = declarative_base()


class Team(Base):
    __tablename__ = "teams"
    id = Column(Integer, primary_key=True)


class Dashboard(Base):
    __tablename__ = "dashboards"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id"), nullable=False)
    user_id = Column(Integer)


class Insight(Base):
    __tablename__ = "insights"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id"), nullable=False)
    user_id = Column(Integer)


class Person(Base):
    __tablename__ = "persons"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer)


class DashboardPayload(BaseModel):
    name: str
""",
}


def test_init_proposes_team_id_from_sqlalchemy_models(tmp_path: Path):
    result, text, data = _init(tmp_path, SQLALCHEMY)
    assert data["tenant-columns"] == ["team_id"]
    assert "`team_id` is on 2 of the 4 tables, a key to `teams`" in text
    assert set(data["tenant-tables"]) == {"dashboards", "insights"}
    assert "DashboardPayload" not in text and "dashboardpayload" not in text
    # user_id is on more tables, but an owner key wins only without a tenant key.
    assert "# Runner-up: `user_id` is on 3 of the 4 tables." in text


def test_init_with_no_tenant_looking_key_keeps_the_default_and_says_so(tmp_path: Path):
    _, text, data = _init(tmp_path, {"schema.sql": "CREATE TABLE plans (id INT PRIMARY KEY, name TEXT);\n"})
    assert data["tenant-columns"] == ["tenant_id"]
    assert "No tenant-looking key" in text


def test_init_given_columns_are_not_second_guessed(tmp_path: Path):
    (tmp_path / "schema.sql").write_text(DDL, encoding="utf-8")
    assert run(["init", "--tenant-columns", "owner_id"], tmp_path).exit_code == 0
    text = (tmp_path / "tenantlint.toml").read_text(encoding="utf-8")
    assert tomllib.loads(text)["tenant-columns"] == ["owner_id"] and "Proposed" not in text


def test_init_warns_when_no_file_was_found(tmp_path: Path):
    (tmp_path / "README.md").write_text("# nothing here\n", encoding="utf-8")
    result = run(["init"], tmp_path)
    assert result.exit_code == 0
    assert "no Python or SQL files found" in result.stderr


def test_init_in_a_subfolder_reads_the_whole_repository(tmp_path: Path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "schema.sql").write_text(DDL, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / "ci").mkdir()
    assert run(["init"], tmp_path / "ci").exit_code == 0
    data = tomllib.loads((tmp_path / "ci" / "tenantlint.toml").read_text(encoding="utf-8"))
    assert data["tenant-columns"] == ["tenant_id"] and "orders" in data["tenant-tables"]
