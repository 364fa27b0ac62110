"""Placeholders, dialects, not-SQL text, unparseable queries, robustness and cost."""
import time

import pytest

from sql_helpers import POLICY, codes
from tenantlint.sql import SqlPolicy, SqlText, analyze_sql, looks_like_sql
from tenantlint.sql.normalize import normalize_placeholders
from tenantlint.sql.statements import parse_statements

PLACEHOLDERS = [
    "SELECT * FROM orders WHERE tenant_id = %s AND id = %s",
    "SELECT * FROM orders WHERE tenant_id = %(tenant_id)s AND id = %(id)s",
    "SELECT * FROM orders WHERE tenant_id = :tenant_id AND id = :id",
    "SELECT * FROM orders WHERE tenant_id = $1 AND id = $2",
    "SELECT * FROM orders WHERE tenant_id = ? AND id = ?",
    "SELECT * FROM orders WHERE tenant_id = $1::uuid AND id = $2",
    "SELECT * FROM orders WHERE tenant_id = :tid::uuid AND name LIKE 'a%%' AND id = %s",
]


@pytest.mark.parametrize("sql", PLACEHOLDERS)
def test_every_placeholder_style_anchors(sql):
    assert codes(sql) == set()
    assert codes(sql.replace("tenant_id =", "customer_id =")) == {"TL101"}


@pytest.mark.parametrize(("raw", "normalized"), [
    ("a = %s AND b = %s", "a = :tlp_1 AND b = :tlp_2"),
    ("a = %(tid)s", "a = :tid"),
    ("a = $1 AND b = $12", "a = :tlp_1 AND b = :tlp_12"),
    ("a LIKE '%s' AND b = '100%%'", "a LIKE '%s' AND b = '100%%'"),  # strings untouched
    ("a % 2 = 0 AND b LIKE 'x' || %s", "a % 2 = 0 AND b LIKE 'x' || :tlp_1"),
    ("a = 5 %% 2", "a = 5 % 2"),
    ("a::uuid = :b", "a::uuid = :b"),
    ('"%s" = $1', '"%s" = :tlp_1'),
    ("a = $$ %s $1 $$ -- %s\n", "a = $$ %s $1 $$ -- %s\n"),
    ("a = $fn$ %s $fn$ /* $1 */", "a = $fn$ %s $fn$ /* $1 */"),
    ("a = 'it''s %s' AND b = ?", "a = 'it''s %s' AND b = ?"),
])
def test_normalize_placeholders(raw, normalized):
    assert normalize_placeholders(raw) == normalized


def test_mysql_backslash_escapes_in_strings():
    assert normalize_placeholders(r"a = 'x\' %s' AND b = %s", "mysql") == r"a = 'x\' %s' AND b = :tlp_1"


DIALECT_CASES = [
    ("mysql", "SELECT * FROM `orders` WHERE `tenant_id` = %s LIMIT 1", set()),
    ("mysql", "SELECT * FROM `orders` WHERE id = %s", {"TL101"}),
    ("mysql", "UPDATE orders o JOIN customers c ON c.id = o.cid SET o.x = 1 WHERE o.tenant_id = %s", {"TL104"}),
    ("mysql", "DELETE FROM orders WHERE tenant_id <=> %s", set()),
    ("mysql", "INSERT INTO orders (id, total) VALUES (%s, %s) ON DUPLICATE KEY UPDATE total = VALUES(total)",
     {"TL103"}),
    ("sqlite", "SELECT * FROM documents WHERE tenant_id = ?", set()),
    ("sqlite", "SELECT * FROM documents", {"TL101"}),
    ("sqlite", "INSERT OR REPLACE INTO documents (id, body) VALUES (?, ?)", {"TL103"}),
    ("clickhouse", "SELECT * FROM orders WHERE tenant_id = {tid:UInt64}", set()),
    ("clickhouse", "SELECT * FROM orders PREWHERE tenant_id = %(tid)s WHERE x = 1", set()),
    ("clickhouse", "SELECT count() FROM orders FINAL WHERE id = %s", {"TL101"}),
    ("clickhouse", "ALTER TABLE orders DELETE WHERE id = %s", {"TL101"}),
    ("clickhouse", "ALTER TABLE orders DELETE WHERE id = %s AND tenant_id = %s", set()),
    ("clickhouse", "ALTER TABLE db.orders ON CLUSTER main UPDATE total = 0 WHERE id = %s", {"TL101"}),
    ("clickhouse", "ALTER TABLE orders UPDATE total = 0 WHERE tenant_id = $1", set()),
    ("postgres", "ALTER TABLE orders DELETE WHERE id = %s", {"TL101"}),
    ("bigquery", "SELECT * FROM `proj.ds.orders` WHERE tenant_id = @tid", set()),
    ("bigquery", "SELECT * FROM proj.ds.orders WHERE id = @id", {"TL101"}),
    ("bigquery", "SELECT * FROM orders WHERE tenant_id IN UNNEST(@tids)", set()),
    ("snowflake", "SELECT * FROM db.schema.orders WHERE tenant_id = %(tid)s", set()),
    ("snowflake", "SELECT * FROM orders WHERE id = ? QUALIFY ROW_NUMBER() OVER (ORDER BY id) = 1", {"TL101"}),
    ("snowflake", "MERGE INTO orders o USING s ON o.id = s.id AND o.tenant_id = :tid "
                  "WHEN MATCHED THEN DELETE", set()),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), DIALECT_CASES)
def test_dialects(dialect, sql, expected):
    assert codes(sql, dialect=dialect) == expected


NOT_SQL = [
    "Select the order from the list and update its status: %s",
    "update",
    "select",
    "Select one",
    "Update orders failed: %s",
    "Delete this item?",
    "Insert coin",
    "update orders account",  # a permission name: an UPDATE always has SET
    "update orders",
    "order_id",
    "orders",
    "",
    "   ",
    "The tenant_id is missing from orders",
    "Settings saved",
    "Create a new order for %(customer)s",
    "EXPLAIN SELECT 1",
    "ANALYZE orders",
]


@pytest.mark.parametrize("text", NOT_SQL)
def test_not_sql_is_none(text):
    assert codes(text) is None


def test_prescreen_is_first_keyword_only():
    assert looks_like_sql("  -- note\n ( SELECT 1")
    assert looks_like_sql("/* x */ with a as (select 1) select * from a")
    assert not looks_like_sql("Order the items")
    assert not looks_like_sql("__tlhole0__ FROM orders")


UNPARSEABLE = [
    # names a tenant table and its tenant column: undecidable
    ("SELECT * FROM orders WHERE tenant_id = %s AND id = (", {"TL002"}),
    ("SELECT FROM orders WHERE tenant_id = 1 +* 2", {"TL002"}),
    ("DELETE FROM orders WHERE tenant_id = $1 AND AND id = $2", {"TL002"}),
    ("UPDATE orders SET x = WHERE tenant_id = 1", {"TL002"}),
    # names a tenant table and no tenant column at all: TL101 even so
    ("SELECT * FROM orders WHERE id = (", {"TL101"}),
    ("SELECT * FROM orders tenant_id WHERE id = (", {"TL101"}),  # an alias is not the column
    ("SELECT * FROM orders o WHERE o.tenant_id = ((", {"TL002"}),
    ("WITH x AS (SELECT * FROM public.orders WHERE id = 1 +* 2) SELECT 1", {"TL101"}),
    # no tenant table named: nothing to say
    ("SELECT * FROM countries WHERE id = (", None),
]


@pytest.mark.parametrize(("sql", "expected"), UNPARSEABLE)
def test_unparseable(sql, expected):
    assert codes(sql) == expected
    assert codes(sql, scoped=True) == (None if expected is None else set())


def test_over_size_limit_is_unverifiable():
    small = SqlPolicy(POLICY.tenant_columns, POLICY.tenant_tables, POLICY.global_tables, max_sql_chars=60)
    pad = " AND x = 1" * 10
    assert {i.code for i in analyze_sql(SqlText("SELECT * FROM orders WHERE tenant_id = %s" + pad), small)} == {"TL002"}
    assert {i.code for i in analyze_sql(SqlText("SELECT * FROM orders WHERE id = %s" + pad), small)} == {"TL101"}


NASTY = [
    "SELECT " + "ARRAY[" * 400 + "1" + "]" * 400 + " FROM orders",
    "SELECT * FROM orders WHERE " + "(" * 3000 + "tenant_id = 1" + ")" * 3000,
    "SELECT * FROM orders WHERE " + " AND ".join(f"c{i} = {i}" for i in range(3000)),
    "SELECT 'unterminated FROM orders",
    "SELECT $$ never closed FROM orders",
    "SELECT * FROM orders WHERE x = '\x00\udcff'",
    "UPDATE ;;; DELETE ;",
    "SELECT {t} FROM {u}",
    "WITH",
    "INSERT INTO",
    "MERGE INTO orders",
    "SET",
    "ALTER TABLE",
    "CREATE POLICY",
    "SELECT * FROM orders WHERE tenant_id = %(",
    "SELECT * FROM orders WHERE tenant_id = ANY(",
]


@pytest.mark.parametrize("text", NASTY)
def test_never_raises_and_stays_fast(text):
    # A guard against runaway (exponential) parsing, not a benchmark (bench/run measures
    # speed): loose enough for a loaded 2-core CI machine, far below a runaway's minutes.
    start = time.perf_counter()
    analyze_sql(SqlText(text), POLICY)
    assert time.perf_counter() - start < 10.0


def test_each_text_is_parsed_once():
    parse_statements.cache_clear()
    text = "SELECT * FROM orders WHERE tenant_id = %s AND id = 7"
    analyze_sql(SqlText(text), POLICY)
    analyze_sql(SqlText(text), POLICY, scoped=True)
    info = parse_statements.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_an_internal_error_is_tl002_not_silence(monkeypatch):
    """A bug inside the analysis must not read as 'not SQL': that would pass a query."""
    import tenantlint.sql.analyze as analyze

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(analyze, "parse_statements", boom)
    assert codes("SELECT * FROM orders WHERE id = %s") == {"TL002"}
    assert codes("SELECT * FROM orders WHERE id = %s", scoped=True) == set()
    assert codes("Thanks for your order") is None
