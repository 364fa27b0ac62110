"""Python expression -> SQL text with holes (tenantlint.sql.recover)."""
from __future__ import annotations

import ast

import pytest

from tenantlint.sql.recover import RecoveryLookups, recover

M = "__tlhole{}__"


def run(expr: str, names: dict[str, str] | None = None):
    node = ast.parse(expr, mode="eval").body
    values = {k: recover(ast.parse(v, mode="eval").body, RecoveryLookups()) for k, v in (names or {}).items()}
    env = RecoveryLookups(lookup=values.get, code=lambda n: ast.get_source_segment(expr, n) or "")
    result = recover(node, env)
    return None if result is None else result.to_sql()


@pytest.mark.parametrize("expr, text, holes", [
    ('"SELECT 1"', "SELECT 1", []),
    ('"SELECT " "1"', "SELECT 1", []),
    ('"SELECT " + "1"', "SELECT 1", []),
    ('r"a\\n"', "a\\n", []),
    ('f"SELECT * FROM t WHERE id = {x}"', f"SELECT * FROM t WHERE id = {M.format(0)}", [("fstring", "x")]),
    ('f"{{literal}} {x!r}"', f"{{literal}} {M.format(0)}", [("fstring", "x")]),
    ('f"a\\tb"', "a\tb", []),
    ('"SELECT %s" % x', f"SELECT {M.format(0)}", [("percent", "x")]),
    ('"SELECT %s, %s" % (a, "lit")', f"SELECT {M.format(0)}, lit", [("percent", "a")]),
    ('"SELECT %(col)s" % {"col": c}', f"SELECT {M.format(0)}", [("percent", "col")]),
    ('"LIKE \'a%%\' AND %s" % x', f"LIKE 'a%' AND {M.format(0)}", [("percent", "x")]),
    ('"FROM {} WHERE {w}".format(t, w=cond)', f"FROM {M.format(0)} WHERE {M.format(1)}",
     [("format", "t"), ("format", "w")]),
    ('"FROM {0} JOIN {0}".format("orders")', "FROM orders JOIN orders", []),
    ('"{}".format(*args)', M.format(0), [("format", "")]),
    ('"SELECT " + cols + " FROM t"', f"SELECT {M.format(0)} FROM t", [("concat", "cols")]),
    # A clause concatenated after a word is not glued into an identifier; `_` glues.
    ('"SELECT * FROM orders" + where', f"SELECT * FROM orders {M.format(0)}", [("concat", "where")]),
    ('"CREATE SCHEMA tenant_" + slug', f"CREATE SCHEMA tenant_{M.format(0)}", [("concat", "slug")]),
    ('" AND ".join(["a = 1", "b = 2"])', "a = 1 AND b = 2", []),
    ('"WHERE " + " AND ".join(conds)', f"WHERE {M.format(0)}", [("concat", '" AND ".join(conds)')]),
    ('textwrap.dedent("SELECT 1")', "SELECT 1", []),
    ('"  SELECT 1 ".strip()', "  SELECT 1 ", []),
    ('sql.SQL("SET search_path TO {}").format(sql.Identifier(s))', f"SET search_path TO {M.format(0)}",
     [("composed", "sql.Identifier(s)")]),
    ('BASE + " WHERE tenant_id = %s"', "SELECT * FROM t WHERE tenant_id = %s", []),
    # Identifier quoting is composition, as psycopg's sql.Identifier is (never TL106).
    ('"DROP TABLE %s" % qn(t)', f"DROP TABLE {M.format(0)}", [("percent", "qn(t)")]),
    ('"DROP TABLE %s" % connection.ops.quote_name(t)', f"DROP TABLE {M.format(0)}",
     [("composed", "connection.ops.quote_name(t)")]),
    ('f"SET search_path TO {quote_ident(s)}"', f"SET search_path TO {M.format(0)}", [("composed", "quote_ident(s)")]),
])
def test_recover(expr, text, holes):
    result = run(expr, {"BASE": '"SELECT * FROM t"'})
    assert result is not None
    assert result.text == text
    assert [(h.kind, h.name) for h in result.holes] == holes


@pytest.mark.parametrize("expr", ["1 + 2", "x", "b'SELECT 1'", "foo()", "a % b", "x.format(y)"])
def test_not_string_valued(expr):
    assert run(expr) is None


def test_interpolated_value_with_known_text_is_spliced_in():
    # `where = " AND ".join(conds)` with a hole in it: its text is read, its hole stays one.
    result = run('f"SELECT * FROM t WHERE {W} ORDER BY id"', {"W": 'f"tenant_id = %s AND {x}"'})
    assert result.text == f"SELECT * FROM t WHERE tenant_id = %s AND {M.format(0)} ORDER BY id"
    result = run('"SELECT * FROM t WHERE %s" % W', {"W": 'f"tenant_id = %s AND {x}"'})
    assert result.text == f"SELECT * FROM t WHERE tenant_id = %s AND {M.format(0)}"
    # Known not at all: one hole, as before.
    assert run('f"SELECT * FROM t WHERE {w}"').holes[0].name == "w"


def test_join_of_a_named_list_asks_the_environment():
    from tenantlint.sql.recover import text

    node = ast.parse('" AND ".join(conds)', mode="eval").body
    env = RecoveryLookups(sequence=lambda name: [text("a = 1"), text("tenant_id = %s")] if name.id == "conds" else None)
    assert recover(node, env).to_sql().text == "a = 1 AND tenant_id = %s"
    assert recover(node, RecoveryLookups()).to_sql().text == M.format(0)  # unknown: one hole
