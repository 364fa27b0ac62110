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
