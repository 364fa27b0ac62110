"""Discovery of tables, indexes and RLS from Alembic, Django migrations, SQL strings and
.sql files, and how the catalog folds them (sequence, aliases, trust-rls)."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tenantlint.catalog import SchemaFact, TableFact
from tenantlint.config import Settings
from tenantlint.discover import assemble_facts, discover_file
from tenantlint.discover.alembic_ops import AlembicOps
from tenantlint.discover.ddl_strings import DdlStrings
from tenantlint.discover.django_migrations import DjangoMigrations, app_label
from tenantlint.discover.sql_files import facts_from_sql
from tenantlint.rules.schema_checks import check_project


def settings(**kw) -> Settings:
    kw.setdefault("tenant_columns", ("tenant_id",))
    return Settings(root=Path("."), **kw)


def run(discoverer, source: str, path: str = "m.py", **kw) -> list:
    return list(discoverer.discover(ast.parse(textwrap.dedent(source)), path, "m", settings(**kw)))


def tables(facts) -> dict[str, TableFact]:
    return {f.name: f for f in facts if isinstance(f, TableFact)}


def indexes(facts) -> list[tuple[str, tuple[str, ...]]]:
    return [(f.ddl.table, f.ddl.columns) for f in facts if isinstance(f, SchemaFact) and f.ddl.kind == "index"]


ALEMBIC = """
import sqlalchemy as sa
from alembic import op

def upgrade():
    op.create_table(
        "a",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), index=True),
    )
    op.create_table("b", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("tenant_id", sa.Integer(), primary_key=True))
    op.create_table("c", sa.Column("tenant_id", sa.Integer()), sa.Column("k", sa.Text()),
                    sa.PrimaryKeyConstraint("tenant_id", "k"), sa.UniqueConstraint("k", "tenant_id"))
    op.create_table(sa.Column("tenant_id", sa.Integer(), unique=True), table_name="public.d")
    op.create_index("ix", "b", ["tenant_id", "id"], unique=False)
    op.create_index(op.f("ix2"), table_name="c", columns=[sa.text("lower(k)")])
    op.create_unique_constraint("uq", "b", ["id", "tenant_id"])
    op.add_column("e", sa.Column("tenant_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("e") as batch_op:
        batch_op.create_index("ix_e", ["tenant_id"])
        batch_op.add_column(sa.Column("x", sa.Integer(), index=True))
    other.create_table("nope", sa.Column("tenant_id", sa.Integer()))

def downgrade():
    op.create_table("old", sa.Column("tenant_id", sa.Integer()))
"""


def test_alembic_tables_columns_and_leading_keys():
    facts = run(AlembicOps(), ALEMBIC)
    found = tables(facts)
    assert set(found) == {"a", "b", "c", "d", "e"}  # `nope` is not alembic; `old` is in downgrade()
    assert found["d"].columns == ("tenant_id",) and found["d"].indexed_columns == ("tenant_id",)
    assert found["a"].columns == ("id", "tenant_id") and set(found["a"].indexed_columns) == {"id", "tenant_id"}
    assert found["a"].origin == "alembic" and (found["a"].line, found["a"].end_line) == (6, 10)
    assert found["b"].indexed_columns == ("id",)  # composite PK in column order: led by id
    assert found["c"].indexed_columns[:2] == ("tenant_id", "k")
    added = [(f.columns, f.indexed_columns, f.origin) for f in facts if isinstance(f, TableFact) and f.name == "e"]
    assert added == [(("tenant_id",), (), "alembic-alter"), (("x",), ("x",), "alembic-alter")]
    assert indexes(facts) == [("b", ("tenant_id", "id")), ("c", ("",)), ("b", ("id", "tenant_id")),
                              ("e", ("tenant_id",))]


def test_alembic_needs_an_alembic_or_sqlalchemy_import():
    assert run(AlembicOps(), 'op.create_table("t", Column("tenant_id", Integer))') == []


def test_core_table_is_a_definition_but_lowercase_table_is_not():
    facts = run(AlembicOps(), """
        import sqlalchemy as sa
        from sqlalchemy import Table, Column, MetaData
        m = MetaData()
        t = Table("t", m, Column("tenant_id", sa.Integer), sa.Index("ix", "tenant_id"))
        u = sa.table("u", sa.column("tenant_id"))
        r = Table("r", m, autoload_with=None)
    """)
    assert list(tables(facts)) == ["t"] and tables(facts)["t"].indexed_columns == ("tenant_id",)


def test_sql_strings_lists_keywords_loops_and_downgrade():
    facts = run(DdlStrings(), """
        from alembic import op
        TABLES = ["a", "b"]

        def upgrade():
            for t in TABLES:
                op.execute(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY")
            for t in ("c",):
                op.execute("ALTER TABLE {} FORCE ROW LEVEL SECURITY".format(t))
                op.execute("ALTER TABLE %s FORCE ROW LEVEL SECURITY" % t)
            op.execute(f"ALTER TABLE {unknown} ENABLE ROW LEVEL SECURITY")
            RunSQL(sql=["ALTER TABLE d ENABLE ROW LEVEL SECURITY", ("CREATE INDEX i ON d (tenant_id)", [])],
                   reverse_sql="ALTER TABLE d DISABLE ROW LEVEL SECURITY")
            ops = [RunSQL(f"ALTER TABLE {n} ENABLE ROW LEVEL SECURITY") for n in ["e"]]

        def downgrade():
            op.execute("ALTER TABLE a DISABLE ROW LEVEL SECURITY")
    """)
    got = [(f.ddl.kind, f.ddl.table) for f in facts]
    assert got == [("enable_rls", "a"), ("enable_rls", "b"), ("force_rls", "c"), ("force_rls", "c"),
                   ("enable_rls", "d"), ("index", "d"), ("enable_rls", "e")]
    assert facts[0].line == 7


DJANGO_0001 = """
import django.db.models.deletion
from django.db import migrations, models

class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel(
            name="Invoice",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="t.tenant")),
                ("tags", models.ManyToManyField(to="b.tag")),
            ],
            options={"db_table": "invoices"},
        ),
        migrations.CreateModel(
            "Line",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("org", models.ForeignKey(db_index=False, db_column="tenant_id", on_delete=None, to="t.tenant")),
                ("sku", models.CharField(max_length=3)),
            ],
            options={"constraints": [models.UniqueConstraint(fields=("org", "sku"), name="u")]},
        ),
        migrations.CreateModel(
            name="Item",
            fields=[("tenant", models.ForeignKey(db_index=False, on_delete=None, to="t.tenant")),
                    ("pk", models.CompositePrimaryKey("tenant", "id"))],
        ),
        migrations.AddIndex(model_name="invoice", index=models.Index(fields=["-tenant"], name="i")),
        migrations.AddConstraint(model_name="item", constraint=models.UniqueConstraint(
            models.functions.Lower("sku"), name="u2")),
        migrations.AlterUniqueTogether(name="item", unique_together={("tenant", "sku")}),
        migrations.AddField(model_name="note", name="tenant",
                            field=models.ForeignKey(on_delete=None, to="t.tenant")),
        migrations.AlterModelTable(name="note", table="notes"),
    ]
"""


def test_django_create_model_fields_keys_and_later_operations():
    facts = run(DjangoMigrations(), DJANGO_0001, path="src/billing/migrations/0001_initial.py")
    found = tables(facts)
    assert set(found) == {"invoices", "billing_line", "billing_item", "billing_note"}
    assert found["invoices"].columns == ("id", "tenant_id") and "tenant_id" in found["invoices"].indexed_columns
    assert found["invoices"].origin == "django-migration" and found["invoices"].line == 7
    # db_column wins; db_index=False; the unique constraint's first field is resolved to its column.
    assert found["billing_line"].columns == ("id", "tenant_id", "sku")
    assert found["billing_line"].indexed_columns == ("id", "tenant_id")
    assert found["billing_item"].indexed_columns == ("tenant_id",)  # CompositePrimaryKey led by tenant
    assert found["billing_note"].origin == "django-alter"
    assert indexes(facts) == [("billing_invoice", ("tenant_id",)), ("billing_item", ("",)),
                              ("billing_item", ("tenant_id",))]
    aliases = {(f.ddl.extra["alias"], f.ddl.table) for f in facts
               if isinstance(f, SchemaFact) and f.ddl.kind == "alias"}
    assert aliases == {("billing_invoice", "invoices"), ("billing_note", "notes")}


def test_app_label_and_django_import_gate():
    assert app_label("billing/migrations/0001_initial.py") == "billing"
    assert app_label("src/proj/apps/crm/migrations/0002_x.py") == "crm"
    assert app_label("migrations/0001.py") is None
    assert run(DjangoMigrations(), "CreateModel(name='X', fields=[('tenant', ForeignKey())])") == []


def test_sql_files_skip_down_migrations_and_keep_every_leading_key():
    s = settings()
    up = facts_from_sql("CREATE TABLE t (\n id int PRIMARY KEY,\n tenant_id int UNIQUE\n);", "1.up.sql", s)
    assert up[0].indexed_columns == ("id", "tenant_id") and (up[0].line, up[0].end_line) == (1, 4)
    assert facts_from_sql("CREATE TABLE t (tenant_id int);", "db/0001_x.down.sql", s) == []
    dbmate = "-- migrate:up\nCREATE TABLE a (tenant_id int);\n-- migrate:down\nCREATE TABLE b (tenant_id int);\n"
    assert [f.name for f in facts_from_sql(dbmate, "20240101_a.sql", s)] == ["a"]
    goose = "-- +goose Up\nCREATE TABLE a (tenant_id int);\n-- +goose Down\nCREATE TABLE b (tenant_id int);\n"
    assert [f.name for f in facts_from_sql(goose, "00001_a.sql", s)] == ["a"]


def _catalog(sql: str, **kw):
    s = settings(**kw)
    return assemble_facts(s, facts_from_sql(sql, "schema.sql", s)), s


SECURED = """CREATE TABLE t (id int, tenant_id int);
CREATE INDEX ON t (tenant_id);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
ALTER TABLE t FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON t USING (tenant_id = 1) WITH CHECK (tenant_id = 1);
"""


def test_later_disable_is_not_tl501_but_ends_trust():
    catalog, s = _catalog(SECURED, trust_rls=True, require_rls=True)
    assert catalog.trusted_tables == {"t"}
    catalog, s = _catalog(SECURED + "ALTER TABLE t DISABLE ROW LEVEL SECURITY;\n", trust_rls=True, require_rls=True)
    assert catalog.trusted_tables == frozenset() and catalog.rls["t"].enabled
    assert list(check_project(catalog, s)) == []
    catalog, _ = _catalog(SECURED + "ALTER TABLE t NO FORCE ROW LEVEL SECURITY;\n"
                          "ALTER TABLE t FORCE ROW LEVEL SECURITY;\n", trust_rls=True)
    assert catalog.trusted_tables == {"t"}  # forced again afterwards


def test_aliases_resolve_django_model_names_to_db_table(tmp_path):
    mig = tmp_path / "billing" / "migrations"
    mig.mkdir(parents=True)
    (mig / "0001_initial.py").write_text(textwrap.dedent(DJANGO_0001))
    (mig / "0002_rls.py").write_text(textwrap.dedent("""
        from django.db import migrations
        class Migration(migrations.Migration):
            operations = [migrations.RunSQL("ALTER TABLE billing_note ENABLE ROW LEVEL SECURITY")]
    """))
    s = Settings(root=tmp_path, tenant_columns=("tenant_id",), require_rls=True)
    facts = [f for p in sorted(mig.glob("*.py")) for f in discover_file(p, s)]
    catalog = assemble_facts(s, facts)
    assert {"invoices", "notes"} <= set(catalog.tables) and "billing_note" not in catalog.tables
    assert catalog.rls["notes"].enabled and catalog.rls["invoices"].indexed  # AddIndex under the model's name
    # `notes` was only altered here (AddField): it has no definition, so nothing is reported for it.
    assert "notes" not in {d.context for d in check_project(catalog, s)}
    codes = {(d.context, d.code) for d in check_project(catalog, s)}
    assert ("invoices", "TL501") in codes and ("billing_line", "TL504") not in codes


def _alembic(rev: str, down: str | None, body: str) -> str:
    return textwrap.dedent(f"""
        from alembic import op
        revision = "{rev}"
        down_revision = {down!r}

        def upgrade():
            {body}
    """)


def test_alembic_files_are_read_in_revision_order_not_name_order(tmp_path):
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "f00d_create.py").write_text(_alembic("f00d", None, 'op.execute("""CREATE TABLE t (tenant_id int);\n'
                                                      'ALTER TABLE t ENABLE ROW LEVEL SECURITY;\n'
                                                      'ALTER TABLE t FORCE ROW LEVEL SECURITY""")'))
    (versions / "0bad_disable.py").write_text(_alembic("0bad", "f00d",
                                                       'op.execute("ALTER TABLE t DISABLE ROW LEVEL SECURITY")'))
    s = Settings(root=tmp_path, tenant_columns=("tenant_id",), trust_rls=True)
    facts = [f for p in sorted(versions.glob("*.py")) for f in discover_file(p, s)]
    catalog = assemble_facts(s, facts)
    assert catalog.rls["t"].disabled and catalog.trusted_tables == frozenset()


def test_revision_graph_with_merges_and_cycles():
    from tenantlint.migration_replay import migration_order
    from tenantlint.sql.types import DdlFact

    def rev(path, r, down=""):
        return SchemaFact(DdlFact("revision", "", extra={"revision": r, "down": down}), path, 0)

    order = migration_order([rev("m.py", "m", "b,c"), rev("a.py", "a"), rev("b.py", "b", "a"),
                             rev("c.py", "c", "a"), rev("x.py", "x", "y"), rev("y.py", "y", "x")])
    assert order["a.py"] < order["b.py"] == order["c.py"] < order["m.py"]
    assert set(order) == {"m.py", "a.py", "b.py", "c.py", "x.py", "y.py"}
