"""Model discovery into the catalog: both ORMs, across files."""
from __future__ import annotations

from orm.orm_helpers import catalog_for

DJANGO_BASE = '''
from django.db import models


class Owned(models.Model):
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE)

    class Meta:
        abstract = True


class OrgManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(organization=current())
'''


def test_django_models_across_files(tmp_path):
    catalog = catalog_for(tmp_path, {
        "core/models.py": DJANGO_BASE,
        "sales/models/order.py": '''
            from django.db import models
            from core.models import Owned, OrgManager

            class Order(Owned):
                number = models.CharField(max_length=20)
                objects = OrgManager()
                unscoped = models.Manager()

            class Line(models.Model):
                org = models.ForeignKey("core.Organization", db_column="organization_id", on_delete=models.CASCADE)

                class Meta:
                    db_table = "order_lines"

            class Country(models.Model):
                code = models.CharField(max_length=2)
        ''',
    }, 'tenant-columns = ["organization_id"]\n')
    assert set(catalog.models) == {"Order", "Line"}
    order = catalog.models["Order"]
    assert order.table == "sales_order"  # app label: the folder holding the models/ package
    assert order.tenant_relations == {"organization"}
    assert catalog.models["Line"].table == "order_lines"
    assert catalog.models["Line"].tenant_relations == {"org"}
    assert "owned" not in catalog.tables  # abstract
    assert catalog.orm["Order"].managers == {"objects": True, "unscoped": False}
    assert catalog.rls["sales_order"].indexed  # a ForeignKey is indexed by default


def test_sqlalchemy_declarative_mixins_and_core(tmp_path):
    catalog = catalog_for(tmp_path, {
        "app/base.py": '''
            from sqlalchemy import Integer
            from sqlalchemy.orm import declared_attr, mapped_column

            class TeamMixin:
                @declared_attr
                def team_id(cls):
                    return mapped_column(Integer, index=True)
        ''',
        "app/models.py": '''
            from sqlalchemy import Column, Integer, MetaData, String, Table
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
            from app.base import TeamMixin

            class Base(DeclarativeBase):
                pass

            class Board(TeamMixin, Base):
                __tablename__ = "boards"
                id: Mapped[int] = mapped_column(primary_key=True)

            class Legacy(Base):
                __tablename__ = "legacy"
                id = Column(Integer, primary_key=True)
                team_id = Column("team_id", Integer)

            class Emoji(Base):
                __tablename__ = "emojis"
                code: Mapped[str] = mapped_column(String(10), primary_key=True)

            metadata = MetaData()
            events = Table("events", metadata, Column("id", Integer), Column("team_id", Integer))
        ''',
    }, 'tenant-columns = ["team_id"]\n')
    assert set(catalog.models) == {"Board", "Legacy", "events"}
    assert catalog.models["Board"].table == "boards"
    assert catalog.orm["events"].core
    assert {"boards", "legacy", "events"} <= set(catalog.tables)
    assert "emojis" not in catalog.tables


def test_global_tables_and_tenant_models_config(tmp_path):
    catalog = catalog_for(tmp_path, {
        "app/models.py": '''
            from sqlalchemy import Column, Integer
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class Plan(Base):
                __tablename__ = "plans"
                id = Column(Integer, primary_key=True)
                tenant_id = Column(Integer)

            class Workspace(Base):
                __tablename__ = "workspaces"
                id = Column(Integer, primary_key=True)
        ''',
    }, 'tenant-columns = ["tenant_id"]\nglobal-tables = ["Plan"]\ntenant-models = ["Workspace"]\n')
    assert set(catalog.models) == {"Workspace"}


def test_loader_criteria_listener_scopes_subclasses(tmp_path):
    catalog = catalog_for(tmp_path, {
        "app/models.py": '''
            from sqlalchemy import Column, Integer
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class Scoped:
                tenant_id = Column(Integer)

            class Doc(Scoped, Base):
                __tablename__ = "docs"
                id = Column(Integer, primary_key=True)

            class Log(Base):
                __tablename__ = "logs"
                id = Column(Integer, primary_key=True)
                tenant_id = Column(Integer)
        ''',
        "app/db.py": '''
            from sqlalchemy import event
            from sqlalchemy.orm import Session, with_loader_criteria
            from app.models import Scoped

            def add_criteria(state):
                state.statement = state.statement.options(with_loader_criteria(Scoped, lambda c: c.tenant_id == 1))

            event.listen(Session, "do_orm_execute", add_criteria)
        ''',
    })
    assert catalog.orm["Doc"].always_scoped
    assert not catalog.orm["Log"].always_scoped
