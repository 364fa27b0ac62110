"""TL105 session settings, TL106 interpolated identifiers, TL107 RLS bypass, and
what holes do to scope (value, identifier, clause)."""
import pytest

from sql_helpers import codes, fstring

H0 = fstring("__tlhole0__")

SESSION = [
    ("SET search_path TO tenant_acme, public", {"TL105"}),
    ("SET search_path = tenant_acme", {"TL105"}),
    ("SET SESSION search_path TO tenant_acme", {"TL105"}),
    ("SET LOCAL search_path TO tenant_acme, public", set()),
    ("SET app.tenant_id = 'acme'", {"TL105"}),
    ("SET app.tenant_id = %s", {"TL105"}),
    ("SET app.tenant_id = :tid", {"TL105"}),
    ("SET app.tenant_id TO %(tid)s", {"TL105"}),
    ("SET LOCAL app.tenant_id = :tid", set()),
    ("SET LOCAL app.tenant_id = '__tlhole0__'", set()),
    ("SET app.tenant_id = '__tlhole0__'", {"TL105"}),  # quoted value hole: no TL106
    ("SET statement_timeout = 5000", set()),
    ("SET TIME ZONE 'UTC'", set()),
    ("/* pool */ SET app.tenant_id = 1", {"TL105"}),
    ("SELECT set_config('app.tenant_id', :tid, false)", {"TL105"}),
    ("SELECT set_config('app.tenant_id', %s, FALSE)", {"TL105"}),
    ("SELECT set_config('app.tenant_id', :tid, true)", set()),
    ("SELECT set_config('app.tenant_id', :tid, %s)", set()),  # not a literal false
    ("SELECT set_config('search_path', '__tlhole0__', false)", {"TL105"}),
    # TL107
    ("ALTER TABLE orders DISABLE ROW LEVEL SECURITY", {"TL107"}),
    ("ALTER TABLE IF EXISTS public.orders NO FORCE ROW LEVEL SECURITY", {"TL107"}),
    ("ALTER TABLE orders ENABLE ROW LEVEL SECURITY", None),  # fine, and opaque Command
    ("ALTER TABLE orders FORCE ROW LEVEL SECURITY", None),
    ("ALTER TABLE orders /* DISABLE ROW LEVEL SECURITY */ ENABLE ROW LEVEL SECURITY", None),
    ("ALTER TABLE orders ENABLE ROW LEVEL SECURITY -- not DISABLE ROW LEVEL SECURITY", None),
    ("SET row_security = off", {"TL107"}),
    ("SET LOCAL row_security = off", {"TL107"}),
    ("SET row_security TO OFF", {"TL107"}),
    ("SET row_security = on", set()),
    ("CREATE ROLE reporting WITH LOGIN BYPASSRLS", {"TL107"}),
    ("ALTER ROLE app BYPASSRLS", {"TL107"}),
    ("ALTER ROLE app NOBYPASSRLS", None),
    ("SELECT set_config('row_security', 'off', true)", {"TL107"}),
]


@pytest.mark.parametrize(("sql", "expected"), SESSION)
def test_session_rules(sql, expected):
    assert codes(sql, holes=H0) == expected


@pytest.mark.parametrize(("sql", "expected"), [(s, e) for s, e in SESSION if e])
def test_session_rules_survive_scope_providers(sql, expected):
    assert codes(sql, holes=H0, scoped=True) == expected


HOLES = [
    # identifier holes: TL106
    ("SET search_path TO tenant___tlhole0__, public", H0, {"TL105", "TL106"}),
    ("SET search_path TO __tlhole0__", H0, {"TL105", "TL106"}),
    ("SET LOCAL search_path TO tenant___tlhole0__", H0, {"TL106"}),
    ("SET LOCAL search_path TO '__tlhole0__'", H0, set()),  # quoted value
    ("CREATE SCHEMA tenant___tlhole0__", H0, {"TL106"}),
    ("CREATE SCHEMA IF NOT EXISTS __tlhole0__ AUTHORIZATION app", H0, {"TL106"}),
    ("DROP SCHEMA tenant___tlhole0__ CASCADE", H0, {"TL106"}),
    ("SELECT * FROM __tlhole0__.orders WHERE tenant_id = %s", H0, {"TL106"}),
    ("SELECT * FROM tenant___tlhole0__.orders WHERE id = %s", H0, {"TL106", "TL101"}),
    ("SELECT * FROM __tlhole0__ WHERE id = %s", H0, {"TL106"}),
    ('SELECT * FROM "tenant___tlhole0__".invoices WHERE tenant_id = 1', H0, {"TL106"}),
    ("INSERT INTO __tlhole0__ (id) VALUES (1)", H0, {"TL106"}),
    # psycopg sql.Identifier composition is never TL106
    ("SET search_path TO __tlhole0__, public", (("__tlhole0__", "composed", "x"),), {"TL105"}),
    ("SELECT * FROM __tlhole0__.orders WHERE tenant_id = %s", (("__tlhole0__", "composed", "x"),), set()),
    ("CREATE SCHEMA __tlhole0__", (("__tlhole0__", "composed", "x"),), set()),
    # value holes anchor, and are not TL106
    ("SELECT * FROM orders WHERE tenant_id = __tlhole0__", H0, set()),
    ("SELECT * FROM orders WHERE tenant_id = '__tlhole0__'", H0, set()),
    ("SELECT * FROM orders WHERE id = __tlhole0__", H0, {"TL101"}),
    # clause holes: unanchored -> TL002, anchored stays clean
    ("SELECT * FROM orders WHERE __tlhole0__", H0, {"TL002"}),
    ("SELECT * FROM orders WHERE id = %s AND __tlhole0__", H0, {"TL002"}),
    ("SELECT * FROM orders WHERE tenant_id = %s AND __tlhole0__", H0, set()),
    ("SELECT * FROM orders WHERE (__tlhole0__) AND tenant_id = %s", H0, set()),
    ("SELECT * FROM orders __tlhole0__", H0, {"TL002"}),
    ("SELECT * FROM orders WHERE id = 1 __tlhole0__", H0, {"TL002"}),
    ("SELECT * FROM orders WHERE tenant_id = %s OR __tlhole0__", H0, {"TL102"}),
    ("SELECT __tlhole0__ FROM orders WHERE tenant_id = %s", H0, set()),  # column list hole
    ("SELECT * FROM orders WHERE tenant_id = %s ORDER BY __tlhole0__", H0, set()),
    ("SELECT * FROM orders WHERE id IN (__tlhole0__)", H0, {"TL101"}),  # subquery/value hole
    ("SELECT * FROM orders WHERE tenant_id IN (__tlhole0__)", H0, set()),
]


@pytest.mark.parametrize(("sql", "holes", "expected"), HOLES)
def test_holes(sql, holes, expected):
    assert codes(sql, holes=holes) == expected


def test_tl106_message_names_the_python_expression():
    from sql_helpers import POLICY
    from tenantlint.sql import Hole, SqlText, analyze_sql

    issues = analyze_sql(SqlText("CREATE SCHEMA tenant___tlhole0__", (Hole("__tlhole0__", "percent", "tenant_slug"),)),
                         POLICY)
    assert [i.code for i in issues] == ["TL106"]
    assert "tenant_slug" in issues[0].message and "schema" in issues[0].message



def test_parenthesized_hole_is_a_subquery_not_an_identifier():
    text = ("SELECT * FROM (__tlhole0__) AS scoped "
            "WHERE scoped.tenant_id = current_setting('app.tenant_id')::uuid")
    assert codes(text, holes=fstring("__tlhole0__")) == set()
    # ...while a bare hole in FROM is a table name.
    assert "TL106" in codes("SELECT * FROM __tlhole0__ WHERE tenant_id = %s", holes=fstring("__tlhole0__"))


@pytest.mark.parametrize("text", [
    "Set the column name manually using db_column.",
    "Set a default value, or change the on_delete rule.",
    "SET self.maxDiff to None for the full diff",
    "SELECT set_config('TimeZone', %s, false)",
    "SET TIME ZONE 'UTC'",
])
def test_prose_and_builtin_settings_are_not_tl105(text):
    assert "TL105" not in (codes(text) or set())


@pytest.mark.parametrize("text", [
    "SET app.tenant_id = %s",
    "SET app.tenant_id TO '42'",
    'SET "app"."tenant_id" = %s',
    "SET SESSION search_path TO tenant_a, public",
    "SELECT set_config('app.tenant_id', %s, false)",
    "SELECT set_config('search_path', %s, false)",
])
def test_session_level_tenant_settings_are_tl105(text):
    assert "TL105" in codes(text)


def test_prose_that_starts_like_ddl_is_not_tl106():
    holes = fstring("__tlhole0__", "__tlhole1__")
    assert "TL106" not in (codes("Create not valid constraint __tlhole0__ on model __tlhole1__", holes=holes) or set())
    assert "TL106" in codes("CREATE SCHEMA tenant___tlhole0__", holes=holes)
    assert "TL106" in codes("DROP SCHEMA IF EXISTS __tlhole0__ CASCADE", holes=holes)


def test_a_hole_in_the_column_position_may_be_the_tenant_predicate():
    holes = fstring("__tlhole0__")
    assert codes("SELECT * FROM orders WHERE __tlhole0__ = 1", holes=holes) == {"TL002"}
    assert codes("SELECT * FROM orders WHERE __tlhole0__ IN (%s, %s)", holes=holes) == {"TL002"}
    # a value hole cannot anchor: it only fills a value compared to another column
    assert codes("SELECT * FROM orders WHERE id = __tlhole0__", holes=holes) == {"TL101"}
    assert codes("SELECT * FROM orders WHERE tenant_id = %s AND __tlhole0__ = 1", holes=holes) == set()
