"""A table that gains (or loses) its tenant column in a later migration: SQL ALTER TABLE,
Alembic `add_column`/`drop_column`/`alter_column`, Django `AddField`/`RemoveField`/
`RenameField`. Migrations are replayed in order; down migrations are not read."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from project_scan import write_project
from tenantlint.config import Settings
from tenantlint.discover import assemble_facts, discover_file
from tenantlint.rules.schema_checks import check_project
from tenantlint.sql import ddl_facts


@pytest.mark.parametrize("sql, expected", [
    ("ALTER TABLE t ADD COLUMN tenant_id uuid REFERENCES tenants (id)",
     [("add_column", ("tenant_id",), ()), ("foreign_key", ("tenant_id",), ())]),
    ("ALTER TABLE t ADD tenant_id uuid", [("add_column", ("tenant_id",), ())]),
    ("ALTER TABLE IF EXISTS ONLY public.t ADD COLUMN IF NOT EXISTS tenant_id uuid",
     [("add_column", ("tenant_id",), ())]),
    ('ALTER TABLE "T" ADD "Tenant_Id" int UNIQUE', [("add_column", ("tenant_id",), ("tenant_id",))]),
    ("ALTER TABLE t ADD COLUMN amount numeric(12, 2), ADD COLUMN tenant_id uuid PRIMARY KEY",
     [("add_column", ("amount",), ()), ("add_column", ("tenant_id",), ("tenant_id",))]),
    ("ALTER TABLE t ON CLUSTER c ADD COLUMN tenant_id UInt64", [("add_column", ("tenant_id",), ())]),
    ("ALTER TABLE t ADD COLUMN (a int, tenant_id int)",  # MySQL
     [("add_column", ("a",), ()), ("add_column", ("tenant_id",), ())]),
    ("ALTER TABLE t ADD CONSTRAINT k PRIMARY KEY (tenant_id, id), ADD UNIQUE (x, tenant_id)",
     [("index", ("tenant_id", "id"), ()), ("index", ("x", "tenant_id"), ())]),
    ("ALTER TABLE t ADD INDEX ix (tenant_id, a)", [("index", ("tenant_id", "a"), ())]),
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (tenant_id) REFERENCES x (id)",
     [("foreign_key", ("tenant_id",), ())]),
    ("ALTER TABLE t ADD CONSTRAINT p PRIMARY KEY USING INDEX ix", []),
    ("ALTER TABLE t DROP COLUMN IF EXISTS tenant_id CASCADE, DROP x",
     [("drop_column", ("tenant_id",), ()), ("drop_column", ("x",), ())]),
    ("ALTER TABLE t DROP CONSTRAINT k, DROP PRIMARY KEY, DROP INDEX ix, DROP FOREIGN KEY f", []),
    ("ALTER TABLE t RENAME COLUMN org TO tenant_id", [("rename_column", ("org", "tenant_id"), ())]),
    ("ALTER TABLE t RENAME org TO tenant_id", [("rename_column", ("org", "tenant_id"), ())]),
    ("ALTER TABLE t CHANGE COLUMN org tenant_id int", [("rename_column", ("org", "tenant_id"), ())]),
    ("ALTER TABLE t RENAME TO u", [("rename_table", ("u",), ())]),  # a table rename (see test_table_history)
    ("ALTER TABLE t RENAME CONSTRAINT a TO b", []),
    ("ALTER TABLE t ALTER COLUMN tenant_id SET NOT NULL, ALTER COLUMN x DROP DEFAULT",
     [("foreign_key", ("tenant_id",), ())]),  # the column's nullability, for the key graph
])
def test_alter_table_column_facts(sql, expected):
    got = [(f.kind, f.columns, f.indexed_leading) for f in ddl_facts(sql)]
    assert got == expected
    assert all(f.table == "t" for f in ddl_facts(sql))


def _project(tmp_path: Path, files: dict[str, str], **kw) -> tuple:
    write_project(tmp_path, files, config=None)
    kw.setdefault("tenant_columns", ("tenant_id",))
    s = Settings(root=tmp_path, require_rls=True, **kw)
    facts = [f for p in sorted(tmp_path.rglob("*")) if p.is_file() for f in discover_file(p, s)]
    catalog = assemble_facts(s, facts)
    return catalog, {(d.path, d.location.line, d.code) for d in check_project(catalog, s)}


CREATE = """\
CREATE TABLE w (
    id serial PRIMARY KEY,
    label text
);
"""


@pytest.mark.parametrize("later", [
    "ALTER TABLE w ADD COLUMN tenant_id uuid;",
    "ALTER TABLE w ADD tenant_id uuid;",
    "ALTER TABLE public.w ADD COLUMN IF NOT EXISTS tenant_id uuid NOT NULL;",
    "ALTER TABLE w\n    ADD COLUMN note text,\n    ADD COLUMN tenant_id uuid;",
    "ALTER TABLE w ADD COLUMN org uuid;\nALTER TABLE w RENAME COLUMN org TO tenant_id;",
])
def test_sql_tenant_column_added_later_makes_a_tenant_table(tmp_path, later):
    catalog, found = _project(tmp_path, {"db/001_init.up.sql": CREATE, "db/002_tenant.up.sql": later})
    assert catalog.is_tenant_table("w") and catalog.tables["w"].tenant_columns == {"tenant_id"}
    # Reported at the CREATE TABLE, never at the ALTER.
    assert found == {("db/001_init.up.sql", 1, "TL501"), ("db/001_init.up.sql", 1, "TL504")}
    assert "w" in catalog.sql_policy().tenant_tables


def test_sql_added_key_indexes_the_tenant_column(tmp_path):
    catalog, found = _project(tmp_path, {
        "db/001_init.up.sql": CREATE,
        "db/002_tenant.up.sql": "ALTER TABLE w ADD COLUMN tenant_id uuid,"
                                " ADD CONSTRAINT w_tenant UNIQUE (tenant_id, id);",
    })
    assert found == {("db/001_init.up.sql", 1, "TL501")}
    catalog, found = _project(tmp_path, {"db/002_tenant.up.sql": "ALTER TABLE w ADD tenant_id uuid UNIQUE;"})
    assert found == {("db/001_init.up.sql", 1, "TL501")}


def test_sql_dropped_or_renamed_away_tenant_column_ends_the_tenant_table(tmp_path):
    created = "CREATE TABLE d (id int PRIMARY KEY, tenant_id uuid);\n"
    for later in ("ALTER TABLE d DROP COLUMN tenant_id;", "ALTER TABLE d DROP tenant_id CASCADE;",
                  "ALTER TABLE d RENAME tenant_id TO legacy_tenant;"):
        catalog, found = _project(tmp_path, {"db/001_init.up.sql": created, "db/002_drop.up.sql": later})
        assert not catalog.is_tenant_table("d") and found == set()


def test_sql_changes_follow_migration_order_and_skip_down_migrations(tmp_path):
    files = {
        "db/001_init.up.sql": "CREATE TABLE d (id int PRIMARY KEY, tenant_id uuid);\n",
        "db/002_drop.up.sql": "ALTER TABLE d DROP COLUMN tenant_id;\n",
        "db/002_drop.down.sql": "ALTER TABLE d ADD COLUMN tenant_id uuid;\n",
    }
    catalog, _ = _project(tmp_path, files)
    assert not catalog.is_tenant_table("d")  # the down migration's ADD is not read
    catalog, found = _project(tmp_path, {"db/003_back.up.sql": "ALTER TABLE d ADD COLUMN tenant_id uuid;\n"})
    assert catalog.is_tenant_table("d") and ("db/001_init.up.sql", 1, "TL501") in found
    dbmate = "-- migrate:up\nALTER TABLE e ADD tenant_id int;\n-- migrate:down\nALTER TABLE e DROP tenant_id;\n"
    catalog, found = _project(tmp_path, {"db/004_e.sql": dbmate})
    assert catalog.is_tenant_table("e")  # only altered here: a tenant table, nothing to report at
    assert {path for path, _, _ in found} == {"db/001_init.up.sql"}


def test_sql_rename_carries_the_index_and_drop_removes_it(tmp_path):
    files = {
        "db/001_init.up.sql": "CREATE TABLE b (id int PRIMARY KEY, org uuid);\nCREATE INDEX ON b (org, id);\n",
        "db/002_rename.up.sql": "ALTER TABLE b RENAME COLUMN org TO tenant_id;\n",
    }
    catalog, found = _project(tmp_path, files)
    assert catalog.is_tenant_table("b") and found == {("db/001_init.up.sql", 1, "TL501")}
    files = {
        "db/001_init.up.sql": "CREATE TABLE c (id int, tenant_id uuid, k int UNIQUE);\n"
                              "CREATE INDEX c_t ON c (tenant_id);\n",
        "db/002_swap.up.sql": "ALTER TABLE c DROP COLUMN tenant_id;\nALTER TABLE c RENAME k TO tenant_id;\n",
    }
    catalog, found = _project(tmp_path, files)
    # The old tenant index went with its column; `k`'s unique key now leads by the new one.
    assert catalog.is_tenant_table("c") and found == {("db/001_init.up.sql", 1, "TL501")}


def _alembic(rev: str, down: str | None, body: str) -> str:
    return f'''
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}


def upgrade():
{textwrap.indent(textwrap.dedent(body), "    ")}


def downgrade():
    op.drop_column("w", "tenant_id")
    op.add_column("gone", sa.Column("tenant_id", sa.Integer()))
'''


ALEMBIC_CREATE = """\
op.create_table("w", sa.Column("id", sa.Integer(), primary_key=True))
op.create_table("gone", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("tenant_id", sa.Integer()))
op.create_table("r", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("org", sa.Integer(), index=True))
"""


@pytest.mark.parametrize("body", [
    'op.add_column("w", sa.Column("tenant_id", sa.Integer(), nullable=True))',
    'with op.batch_alter_table("w") as batch_op:\n    batch_op.add_column(sa.Column("tenant_id", sa.Integer()))',
    'op.add_column("w", sa.Column("org", sa.Integer()))\nop.alter_column("w", "org", new_column_name="tenant_id")',
    'op.add_column("w", sa.Column("org", sa.Integer()))\n'
    'with op.batch_alter_table("w") as b:\n    b.alter_column("org", new_column_name="tenant_id", nullable=False)',
    'op.execute("ALTER TABLE w ADD COLUMN tenant_id integer")',
    'op.execute(sa.text("alter table w add tenant_id integer not null"))',
])
def test_alembic_tenant_column_added_later(tmp_path, body):
    # File names sort against the revision order: the catalog follows `down_revision`.
    catalog, found = _project(tmp_path, {
        "alembic/versions/ffff_create.py": _alembic("ffff", None, ALEMBIC_CREATE),
        "alembic/versions/0000_tenant.py": _alembic("0000", "ffff", body),
    })
    assert catalog.is_tenant_table("w")
    assert {("alembic/versions/ffff_create.py", 10, "TL501"), ("alembic/versions/ffff_create.py", 10, "TL504")} <= found


@pytest.mark.parametrize("body", [
    'op.drop_column("gone", "tenant_id")\nop.alter_column("r", "org", new_column_name="tenant_id")',
    'with op.batch_alter_table("gone") as b:\n    b.drop_column("tenant_id")\n'
    'with op.batch_alter_table("r") as b:\n    b.alter_column("org", new_column_name="tenant_id")',
])
def test_alembic_drop_and_rename(tmp_path, body):
    catalog, found = _project(tmp_path, {
        "alembic/versions/ffff_create.py": _alembic("ffff", None, ALEMBIC_CREATE),
        "alembic/versions/0000_change.py": _alembic("0000", "ffff", body),
    })
    assert not catalog.is_tenant_table("gone") and not catalog.is_tenant_table("w")  # downgrade() is not read
    assert catalog.is_tenant_table("r")
    # `r`'s index on `org` follows the rename: TL501 only.
    assert found == {("alembic/versions/ffff_create.py", 12, "TL501")}


def _django(*ops: str) -> str:
    return textwrap.dedent("""
        import django.db.models.deletion
        from django.db import migrations, models


        class Migration(migrations.Migration):
            operations = [
        {}
            ]
    """).format(textwrap.indent(",\n".join(textwrap.dedent(op).strip() for op in ops), " " * 8))


DJANGO_CREATE = _django('''
    migrations.CreateModel(
        name="Project",
        fields=[("id", models.BigAutoField(primary_key=True)), ("name", models.TextField())],
        options={"db_table": "projects"},
    )''', '''
    migrations.CreateModel(
        name="Board",
        fields=[("id", models.BigAutoField(primary_key=True)),
                ("org", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="a.organization"))],
    )''', '''
    migrations.CreateModel(
        name="Draft",
        fields=[("id", models.BigAutoField(primary_key=True)),
                ("organization", models.ForeignKey(on_delete=None, to="a.organization"))],
    )''')


def test_django_add_field_foreign_key_makes_a_tenant_model(tmp_path):
    catalog, found = _project(tmp_path, {
        "crm/migrations/0001_initial.py": DJANGO_CREATE,
        "crm/migrations/0002_project_org.py": _django('''
            migrations.AddField(
                model_name="project",
                name="organization",
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="a.organization"),
            )'''),
    }, tenant_columns=("organization_id",))
    assert catalog.tables["projects"].tenant_columns == {"organization_id"}  # under its db_table
    # The ForeignKey's index counts; the finding is at the CreateModel.
    assert ("crm/migrations/0001_initial.py", 8, "TL501") in found
    assert not any(code == "TL504" for path, line, code in found if line == 8)


def test_django_remove_and_rename_field(tmp_path):
    catalog, found = _project(tmp_path, {
        "crm/migrations/0001_initial.py": DJANGO_CREATE,
        "crm/migrations/0002_changes.py": _django(
            'migrations.RemoveField(model_name="draft", name="organization")',
            'migrations.RenameField(model_name="board", old_name="org", new_name="organization")',
            'migrations.RenameField("project", "name", "title")',
        ),
    }, tenant_columns=("organization_id",))
    assert set(catalog.tables) == {"crm_board"}  # Draft lost its tenant; Board's FK became `organization`
    assert catalog.rls["crm_board"].indexed  # the FK index follows the rename
    assert {code for _, _, code in found} == {"TL501"}
    # A RenameField of a field whose column is not known renames nothing.
    catalog, _ = _project(tmp_path, {"crm/migrations/0003_x.py": _django(
        'migrations.RenameField(model_name="other", old_name="a", new_name="organization")')},
        tenant_columns=("organization_id",))
    assert "crm_other" not in catalog.tables
