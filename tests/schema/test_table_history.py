"""Tables dropped and renamed by migrations (SQL `DROP TABLE` / `ALTER TABLE ... RENAME
TO`, Alembic `drop_table` / `rename_table`, Django `DeleteModel` / `RenameModel` /
`AlterModelTable`): the catalog holds the tables that exist at the end, under their final
names. And table names held in constants (`__tablename__ = NAME`, `db_table = NAME`)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from project_scan import write_project
from tenantlint.config import Settings
from tenantlint.discover import assemble_facts, build_catalog, discover_file
from tenantlint.rules.schema_checks import check_project
from tenantlint.sql import ddl_facts


@pytest.mark.parametrize("sql, dialect, expected", [
    ("DROP TABLE legacy", "postgres", [("drop_table", "legacy", ())]),
    ('DROP TABLE IF EXISTS public.a, "B" CASCADE', "postgres", [("drop_table", "a", ()), ("drop_table", "b", ())]),
    ("DROP TEMPORARY TABLE IF EXISTS t", "mysql", [("drop_table", "t", ())]),
    ("ALTER TABLE IF EXISTS ONLY s.a RENAME TO b", "postgres", [("rename_table", "a", ("b",))]),
    ("ALTER TABLE a RENAME AS b", "mysql", [("rename_table", "a", ("b",))]),
    ("RENAME TABLE a TO b, db.c TO d", "mysql", [("rename_table", "a", ("b",)), ("rename_table", "c", ("d",))]),
    ("ALTER TABLE a RENAME COLUMN x TO y", "postgres", [("rename_column", "a", ("x", "y"))]),
    ("DROP INDEX ix", "postgres", []),
    ("DROP VIEW v", "postgres", []),
])
def test_table_drop_and_rename_facts(sql, dialect, expected):
    assert [(f.kind, f.table, f.columns) for f in ddl_facts(sql, dialect)] == expected


def _project(tmp_path: Path, files: dict[str, str], **kw) -> tuple:
    write_project(tmp_path, files, config=None)
    kw.setdefault("tenant_columns", ("tenant_id",))
    kw.setdefault("require_rls", True)
    s = Settings(root=tmp_path, **kw)
    facts = [f for p in sorted(tmp_path.rglob("*")) if p.is_file() for f in discover_file(p, s)]
    catalog = assemble_facts(s, facts)
    return catalog, {(d.path, d.location.line, d.code, d.context) for d in check_project(catalog, s)}


SECURED = """\
CREATE TABLE {t} (id int PRIMARY KEY, tenant_id int NOT NULL);
CREATE INDEX ON {t} (tenant_id);
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {t} FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON {t} USING (tenant_id = 1) WITH CHECK (tenant_id = 1);
"""


def test_sql_dropped_table_no_longer_exists(tmp_path):
    catalog, found = _project(tmp_path, {
        "db/001_init.up.sql": "CREATE TABLE legacy (id int PRIMARY KEY, tenant_id int);\n",
        "db/002_drop.up.sql": "DROP TABLE IF EXISTS legacy CASCADE;\n",
        "db/002_drop.down.sql": "CREATE TABLE legacy (id int PRIMARY KEY, tenant_id int);\n",
    })
    assert not catalog.is_tenant_table("legacy") and "legacy" not in catalog.definitions
    assert "legacy" not in catalog.sql_policy().tenant_tables
    assert found == set()


def test_sql_table_created_again_after_a_drop_starts_afresh(tmp_path):
    catalog, found = _project(tmp_path, {
        "db/001_init.up.sql": SECURED.format(t="t"),
        "db/002_again.up.sql": "DROP TABLE t;\nCREATE TABLE t (id int, tenant_id int);\n",
    })
    # The RLS, policy and index of the first table went with it; reported at the new CREATE.
    assert found == {("db/002_again.up.sql", 2, "TL501", "t"), ("db/002_again.up.sql", 2, "TL504", "t")}
    # On one line, the statements still count in their order.
    catalog, found = _project(tmp_path, {"db/002_again.up.sql": "DROP TABLE t; CREATE TABLE t (tenant_id int);\n"})
    assert catalog.is_tenant_table("t") and ("db/002_again.up.sql", 1, "TL501", "t") in found
    catalog, found = _project(tmp_path, {"db/002_again.up.sql": "CREATE TABLE u (id int); DROP TABLE t;\n"})
    assert not catalog.is_tenant_table("t") and found == set()


def test_sql_renamed_table_carries_its_facts_to_the_new_name(tmp_path):
    catalog, found = _project(tmp_path, {
        "db/001_init.up.sql": SECURED.format(t="a") + "CREATE TABLE b (id int PRIMARY KEY, org int);\n",
        "db/002_rename.up.sql": "ALTER TABLE a RENAME TO a2;\nALTER TABLE b RENAME TO b2;\n"
                                "ALTER TABLE b2 RENAME COLUMN org TO tenant_id;\n",
    })
    assert set(catalog.tables) == {"a2", "b2"}
    assert catalog.rls["a2"].enabled and catalog.rls["a2"].forced and catalog.rls["a2"].tenant_policy
    assert catalog.rls["a2"].indexed and "a" not in catalog.rls
    # Reported where the table was created, by its current name.
    assert found == {("db/001_init.up.sql", 6, "TL501", "b2"), ("db/001_init.up.sql", 6, "TL504", "b2")}
    messages = {d.message for d in check_project(catalog, Settings(root=tmp_path, tenant_columns=("tenant_id",),
                                                                   require_rls=True))}
    assert "`b2` has no ENABLE ROW LEVEL SECURITY" in messages
    # RLS enabled after the rename, under the new name, is the same table's.
    catalog, found = _project(tmp_path, {"db/003_rls.up.sql": "ALTER TABLE b2 ENABLE ROW LEVEL SECURITY;\n"})
    assert catalog.rls["b2"].enabled and ("db/001_init.up.sql", 6, "TL502", "b2") in found


def test_sql_drops_and_renames_outside_migrations_are_not_history(tmp_path):
    files = {
        "db/migrations/001_init.sql": "CREATE TABLE orders (id int, tenant_id int);\n",
        "scripts/reset.sql": "DROP TABLE orders;\nALTER TABLE orders RENAME TO x;\n",
        "tests/conftest.py": """
            def teardown(cur):
                cur.execute("DROP TABLE IF EXISTS orders")
                cur.execute("ALTER TABLE orders RENAME TO orders_old")
        """,
    }
    catalog, found = _project(tmp_path, files)
    assert catalog.is_tenant_table("orders") and not catalog.is_tenant_table("x")
    assert not catalog.is_tenant_table("orders_old")
    assert ("db/migrations/001_init.sql", 1, "TL501", "orders") in found


def _alembic(rev: str, down: str | None, body: str, downgrade: str = "pass") -> str:
    return f'''
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}

TABLES = ["s1", "s2"]


def upgrade():
{textwrap.indent(textwrap.dedent(body), "    ")}


def downgrade():
{textwrap.indent(textwrap.dedent(downgrade), "    ")}
'''


ALEMBIC_CREATE = """\
op.create_table("legacy", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("tenant_id", sa.Integer()))
op.create_table("pipelineschema", sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("tenant_id", sa.Integer(), index=True))
op.create_table("s1", sa.Column("tenant_id", sa.Integer()))
op.create_table("s2", sa.Column("tenant_id", sa.Integer()))
op.create_table("p1", sa.Column("tenant_id", sa.Integer()))
op.execute("ALTER TABLE pipelineschema ENABLE ROW LEVEL SECURITY")
"""


def test_alembic_drop_table_and_rename_table(tmp_path):
    catalog, found = _project(tmp_path, {
        # Names sort against the revision order: the catalog follows `down_revision`.
        "alembic/versions/ffff_create.py": _alembic("ffff", None, ALEMBIC_CREATE),
        "alembic/versions/0000_change.py": _alembic("0000", "ffff", """\
            op.drop_table("legacy")
            op.rename_table("pipelineschema", "pipeline")
            for t in TABLES:
                op.drop_table(t)
            for old, new in [("p1", "p2")]:
                op.rename_table(old, new)
            """, downgrade='op.rename_table("pipeline", "pipelineschema")\nop.create_table("legacy")'),
    })
    assert set(catalog.tables) == {"pipeline", "p2"}
    assert catalog.rls["pipeline"].enabled and catalog.rls["pipeline"].indexed
    assert ("alembic/versions/ffff_create.py", 13, "TL502", "pipeline") in found
    assert not {ctx for *_, ctx in found} & {"legacy", "pipelineschema", "s1", "s2", "p1"}


def test_alembic_revision_without_operations_keeps_the_chain(tmp_path):
    # A release marker revision: no import, `upgrade(): pass`. Without it, the drop's
    # revision would look like a root and be replayed before the CREATE.
    marker = '"""Release."""\nrevision = "0.9"\ndown_revision = "aaaa"\n\n\ndef upgrade():\n    pass\n'
    catalog, found = _project(tmp_path, {
        "alembic/versions/aaaa_create.py": _alembic("aaaa", None, ALEMBIC_CREATE),
        "alembic/versions/0.9_release.py": marker,
        "alembic/versions/0000_drop.py": _alembic("0000", "0.9", 'op.drop_table("legacy")'),
    })
    assert not catalog.is_tenant_table("legacy")


def _django(*ops: str) -> str:
    return textwrap.dedent("""
        import django.db.models.deletion
        from django.db import migrations, models


        class Migration(migrations.Migration):
            operations = [
        {}
            ]
    """).format(textwrap.indent(",\n".join(textwrap.dedent(op).strip() for op in ops), " " * 8))


def _model(name: str, table: str | None = None) -> str:
    options = f', options={{"db_table": "{table}"}}' if table else ""
    return (f'migrations.CreateModel(name="{name}", fields=[("id", models.BigAutoField(primary_key=True)), '
            f'("tenant", models.ForeignKey(on_delete=None, to="a.tenant"))]{options})')


def test_django_delete_rename_and_alter_model_table(tmp_path):
    catalog, found = _project(tmp_path, {
        "crm/migrations/0001_initial.py": _django(
            _model("Quote"), _model("Estimate"), _model("Invoice", "invoices"), _model("Deal", "deals"),
            'migrations.RunSQL("ALTER TABLE crm_estimate ENABLE ROW LEVEL SECURITY")'),
        "crm/migrations/0002_changes.py": _django(
            'migrations.DeleteModel(name="Quote")',
            'migrations.RenameModel(old_name="Estimate", new_name="Proposal")',
            'migrations.RenameModel("Invoice", "Bill")',  # an explicit db_table: the table keeps its name
            'migrations.AlterModelTable(name="deal", table="opportunities")'),
        "crm/migrations/0003_more.py": _django(
            'migrations.RunSQL("ALTER TABLE crm_proposal FORCE ROW LEVEL SECURITY")',
            'migrations.AlterModelTable(name="bill", table="bills")'),
    })
    assert set(catalog.tables) == {"crm_proposal", "bills", "opportunities"}
    state = catalog.rls["crm_proposal"]
    assert state.enabled and state.forced and state.indexed  # followed the rename
    assert {(path, ctx) for path, _, _, ctx in found} == {
        ("crm/migrations/0001_initial.py", "crm_proposal"), ("crm/migrations/0001_initial.py", "bills"),
        ("crm/migrations/0001_initial.py", "opportunities")}


def test_django_model_deleted_and_created_again_or_back_to_its_default_table(tmp_path):
    catalog, found = _project(tmp_path, {
        "crm/migrations/0001_initial.py": _django(_model("Quote", "quotes"), _model("Deal", "deals")),
        "crm/migrations/0002_again.py": _django(
            'migrations.DeleteModel("Quote")', _model("Quote"),
            'migrations.AlterModelTable(name="deal", table=None)'),
    })
    # The new Quote has no db_table: its table is crm_quote, not the old `quotes`.
    assert set(catalog.tables) == {"crm_quote", "crm_deal"}
    assert found == {("crm/migrations/0002_again.py", 9, "TL501", "crm_quote"),
                     ("crm/migrations/0001_initial.py", 9, "TL501", "crm_deal")}


def test_django_state_operations_drop_nothing(tmp_path):
    catalog, _ = _project(tmp_path, {
        "crm/migrations/0001_initial.py": _django(_model("Deal")),
        "crm/migrations/0002_move.py": _django('''
            migrations.SeparateDatabaseAndState(
                state_operations=[migrations.DeleteModel("Deal"), migrations.RenameModel("Deal", "X"),
                                  migrations.RemoveField("deal", "tenant")],
                database_operations=[],
            )'''),
    })
    assert set(catalog.tables) == {"crm_deal"}


# -- table names in constants ----------------------------------------------------------
def _scan(tmp_path: Path, files: dict[str, str], **kw):
    write_project(tmp_path, files, config=None)
    kw.setdefault("tenant_columns", ("project_id",))
    s = Settings(root=tmp_path, **kw)
    catalog = build_catalog(s)
    return catalog, {(d.path, d.location.line, d.code, d.context) for d in check_project(catalog, s)}


SQLMODEL = """
from sqlmodel import Field, SQLModel
{imports}

{constants}


class ModelVersionSchema(SQLModel, table=True):
    __tablename__ = {value}

    id: int = Field(primary_key=True)
    project_id: int = Field(index=True)
"""


@pytest.mark.parametrize("imports, constants, value", [
    ("", 'MODEL_VERSION_TABLENAME = "model_version"', "MODEL_VERSION_TABLENAME"),
    ("from app.schemas.constants import MODEL_VERSION_TABLENAME", "", "MODEL_VERSION_TABLENAME"),
    ("from .constants import MODEL_VERSION_TABLENAME as NAME", "", "NAME"),
    ("from app.schemas import constants", "", "constants.MODEL_VERSION_TABLENAME"),
    ("import app.schemas.constants as c", "", "c.MODEL_VERSION_TABLENAME"),
    ("from app.schemas import MODEL_VERSION_TABLENAME", "", "MODEL_VERSION_TABLENAME"),  # re-exported
])
def test_tablename_constant_is_resolved(tmp_path, imports, constants, value):
    catalog, _ = _scan(tmp_path, {
        "app/__init__.py": "",
        "app/schemas/__init__.py": "from app.schemas.constants import MODEL_VERSION_TABLENAME\n",
        "app/schemas/constants.py": 'MODEL_VERSION_TABLENAME = "model_version"\n',
        "app/schemas/models.py": SQLMODEL.format(imports=imports, constants=constants, value=value),
        "migrations/versions/001_init.py": _alembic("a1", None, """\
            op.create_table("model_version", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("project_id", sa.Integer(), index=True))"""),
    })
    assert catalog.models["ModelVersionSchema"].table == "model_version"
    assert set(catalog.tables) == {"model_version"}  # never `modelversionschema`


@pytest.mark.parametrize("constants, value", [
    ("", "unknown_module.NAME"),  # not in the project
    ("from thirdparty.names import NAME", "NAME"),
    ('NAME = "a"\nNAME = "b"', "NAME"),  # bound twice: which value?
    ('NAME = "a"\nif FLAG:\n    NAME = "b"', "NAME"),
    ('PREFIX = "zen"', 'f"{PREFIX}_model_version"'),
    ('NAME = "a"\n\ndef f():\n    global NAME\n    NAME = "b"', "NAME"),
])
def test_unresolved_tablename_constant_names_no_table(tmp_path, constants, value):
    catalog, found = _scan(tmp_path, {
        "app/models.py": SQLMODEL.format(imports="", constants=constants, value=value),
    })
    model = catalog.models["ModelVersionSchema"]
    assert model.table is None and catalog.tables == {}  # the model stays a tenant model
    assert found == set()


def test_flask_sqlalchemy_and_django_table_constants(tmp_path):
    catalog, _ = _scan(tmp_path, {
        "shop/constants.py": 'ORDERS = "orders"\nUNKNOWN = compute()\n',
        "shop/models.py": """
            from flask_sqlalchemy import SQLAlchemy
            from shop.constants import ORDERS, UNKNOWN

            db = SQLAlchemy()


            class Order(db.Model):
                __tablename__ = ORDERS
                id = db.Column(db.Integer, primary_key=True)
                project_id = db.Column(db.Integer)


            class Other(db.Model):
                __tablename__ = UNKNOWN
                id = db.Column(db.Integer, primary_key=True)
                project_id = db.Column(db.Integer)
        """,
        "crm/models.py": """
            from django.db import models
            from shop.constants import UNKNOWN

            DEALS = "deals"


            class Deal(models.Model):
                project = models.ForeignKey("p.Project", on_delete=models.CASCADE)

                class Meta:
                    db_table = DEALS


            class Lead(models.Model):
                project = models.ForeignKey("p.Project", on_delete=models.CASCADE)

                class Meta:
                    db_table = UNKNOWN
        """,
    })
    tables = {name: m.table for name, m in catalog.models.items()}
    assert tables == {"Order": "orders", "Other": None, "Deal": "deals", "Lead": None}
    assert set(catalog.tables) == {"orders", "deals"}


def test_renaming_a_table_to_its_own_name_keeps_it(tmp_path):
    catalog, _ = _project(tmp_path, {
        "db/001_init.up.sql": SECURED.format(t="t") + "ALTER TABLE t RENAME TO t;\n",
        "crm/migrations/0001_initial.py": _django(
            _model("Deal", "deals"), 'migrations.AlterModelTable(name="deal", table="deals")'),
    })
    assert set(catalog.tables) == {"t", "deals"} and catalog.rls["t"].enabled
