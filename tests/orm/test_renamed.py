"""A model imported under another name is that model: its queries are judged, and the
message names it (not another model that happens to carry the alias as its own name)."""
from __future__ import annotations

import textwrap

from project_scan import scan_project

BASE = "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"


def _model(name: str, table: str) -> str:
    return textwrap.dedent(f'''
        from sqlalchemy import Column, Integer
        from app.base import Base


        class {name}(Base):
            __tablename__ = "{table}"
            id = Column(Integer, primary_key=True)
            tenant_id = Column(Integer, nullable=False, index=True)
    ''')


VIEWS = '''\
import app.provider as providers
from app.provider import Provider as ProviderModel
from app.provider_model import ProviderModel as ProviderModelORM


def provider(s, pid):
    return s.get(ProviderModel, pid)


def model(s, mid):
    return s.query(ProviderModelORM).filter(ProviderModelORM.id == mid).first()


def through_module(s, pid):
    return s.get(providers.Provider, pid)


def scoped(s, t, pid):
    return s.query(ProviderModel).filter(ProviderModel.id == pid, ProviderModel.tenant_id == t).first()
'''


def _scan(tmp_path):
    files = {"app/__init__.py": "", "app/base.py": BASE, "app/provider.py": _model("Provider", "providers"),
             "app/provider_model.py": _model("ProviderModel", "provider_models"), "app/views.py": VIEWS}
    report = scan_project(tmp_path, files, dedent=False)
    return {(d.location.line, d.code, d.message) for d in report.diagnostics if d.path == "app/views.py"}


def test_alias_resolves_to_the_imported_model(tmp_path):
    assert _scan(tmp_path) == {
        (7, "TL201", "`Provider` (providers) is queried without a tenant filter on `tenant_id`"
                     " (by an id the caller passes)"),
        (11, "TL201", "`ProviderModel` (provider_models) is queried without a tenant filter on `tenant_id`"),
        (15, "TL201", "`Provider` (providers) is queried without a tenant filter on `tenant_id`"
                      " (by an id the caller passes)"),
    }
