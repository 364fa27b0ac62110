"""Precision fixes from a field trial on real code: one finding per statement and code,
strings only searched for are not SQL, lists of conditions joined into a WHERE, and a
tenant predicate added on every branch of an if/else."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from project_scan import scan_project
from sql_helpers import POLICY
from tenantlint.sql import SqlText, analyze_sql
from tenantlint.flow.branches import chain_of, relative
from tenantlint.sql.paths import judged_paths


def issues(sql: str):
    return [(i.code, i.message) for i in analyze_sql(SqlText(sql), POLICY) or ()]


# -- one finding per statement and code, naming every table ------------------------
@pytest.mark.parametrize(("sql", "expected"), [
    ("UPDATE orders SET note = c.name FROM customers c WHERE orders.cid = c.id",
     [("TL101", "`orders` is updated and `customers` is read without a `tenant_id` predicate")]),
    ("SELECT * FROM orders o JOIN customers c ON c.id = o.cid",
     [("TL101", "`orders`, `customers` are read without a `tenant_id` predicate")]),
    ("SELECT * FROM orders o JOIN customers c ON c.id = o.cid JOIN invoices i ON i.oid = o.id "
     "WHERE o.tenant_id = %s",
     [("TL104", "`customers`, `invoices` are joined without tying their `tenant_id` to the anchored tenant")]),
    ("SELECT * FROM orders o JOIN projects p ON p.id = o.pid",
     [("TL101", "`orders` is read without a `tenant_id` predicate; "
                "`projects` is read without an `org_id` predicate")]),
    ("SELECT * FROM orders o, customers c WHERE o.tenant_id = %s OR c.tenant_id = %s",
     [("TL102", "`orders`, `customers`: the `tenant_id` predicate is weakened by OR")]),
    # The same table in two scopes is one subject.
    ("SELECT id FROM orders UNION SELECT id FROM orders",
     [("TL101", "`orders` is read without a `tenant_id` predicate")]),
])
def test_one_issue_per_code_names_every_table(sql, expected):
    assert issues(sql) == expected


def test_interpolated_names_are_one_finding():
    from tenantlint.sql.types import Hole

    holes = (Hole("__tlhole0__", "fstring", "schema"), Hole("__tlhole1__", "fstring", "table"),
             Hole("__tlhole2__", "fstring", "other"))
    found = analyze_sql(SqlText("SELECT * FROM __tlhole0__.__tlhole1__ JOIN __tlhole2__ ON true", holes), POLICY)
    assert [(i.code, i.message) for i in found] == [(
        "TL106", "`schema` is interpolated into a schema name; `table`, `other` are interpolated into a table "
                 "name; use sql.Identifier")]


def _project(tmp_path: Path, files: dict[str, str], config: str = 'tenant-tables = ["orders", "customers"]\n'):
    return scan_project(tmp_path, files, config)


def test_a_statement_on_two_tables_is_one_finding_one_suppression(tmp_path):
    report = _project(tmp_path, {"m.py": '''
        def upgrade(conn):
            conn.execute("UPDATE orders SET name = customers.name FROM customers WHERE orders.cid = customers.id")
            conn.execute("UPDATE orders SET x = 1; DELETE FROM customers")
            conn.execute(  # tenantlint: ignore[TL101] backfill of every tenant
                "UPDATE orders SET name = customers.name FROM customers WHERE orders.cid = customers.id")
    '''})
    found = [(d.location.line, d.code, d.message) for d in report.diagnostics]
    assert found == [
        (3, "TL101", "`orders` is updated and `customers` is read without a `tenant_id` predicate"),
        (4, "TL101", "`orders` is updated and `customers` is deleted from without a `tenant_id` predicate"),
    ]
    assert report.suppressed == 1


def test_single_table_findings_keep_their_message_and_fingerprint(tmp_path):
    from tenantlint.diagnostics import normalize_snippet

    report = _project(tmp_path, {"m.py": '''
        def read(conn):
            conn.execute("SELECT * FROM orders WHERE id = %s")
    '''})
    (diag,) = report.diagnostics
    assert diag.message == "`orders` is read without a `tenant_id` predicate"
    import hashlib
    key = ("TL101", "m.py", diag.context, normalize_snippet("SELECT * FROM orders WHERE id = %s"), 0)
    assert diag.fingerprint == hashlib.sha256("\x1f".join(map(str, key)).encode()).hexdigest()[:20]


# -- the paths a string built in pieces takes --------------------------------------
def _paths_of(code: str):
    """The relative chains of the `sql += ...` additions after `sql = ...` in `code`,
    and the (full, base) sets judged_paths gives."""
    tree = ast.parse(textwrap.dedent(code))
    blocks: list = []
    found: list = []

    def walk(node, stack):
        if isinstance(node, ast.AugAssign):
            found.append(relative(chain_of(stack, node.value), ()))
        inner = stack + [node] if isinstance(node, (ast.If, ast.For, ast.While, ast.Try, ast.Match)) else stack
        for child in ast.iter_child_nodes(node):
            walk(child, inner)

    walk(tree, blocks)
    rels = [r for r in found if r is not None]
    full, base = judged_paths(rels, "sql")
    return sorted(map(sorted, full)), sorted(map(sorted, base))


@pytest.mark.parametrize(("code", "full", "base"), [
    ("if a:\n sql += 'x'\nelse:\n sql += 'y'\n", [[0], [1]], [[0], [1]]),
    ("if a:\n sql += 'x'\n", [[0]], [[]]),
    ("if a:\n sql += 'x'\nelif b:\n sql += 'y'\n", [[0], [1]], [[]]),
    ("if a:\n sql += 'x'\nelif b:\n sql += 'y'\nelse:\n sql += 'z'\n", [[0], [1], [2]], [[0], [1], [2]]),
    ("if a:\n sql += 'x'\nelse:\n raise E\n", [[0]], [[0]]),
    ("if a:\n sql += 'x'\nelse:\n run(sql)\n raise E\n", [[0]], [[]]),
    ("try:\n sql += 'x'\nexcept E:\n sql += 'y'\nexcept F:\n pass\n", [[0], [1]], [[]]),
    ("try:\n sql += 'x'\nexcept E:\n sql += 'y'\n", [[0], [1]], [[0], [1]]),
    ("for x in y:\n sql += 'x'\n", [[0]], [[]]),
    ("while x:\n if a:\n  sql += 'x'\n else:\n  sql += 'y'\n", [[0], [1]], [[]]),
    ("if a:\n sql += 'x'\n if b:\n  sql += 'y'\nelse:\n sql += 'z'\n", [[0, 1], [2]], [[0], [2]]),
    ("if a:\n sql += 'x'\nif b:\n sql += 'y'\n", [[0, 1]], [[]]),
])
def test_judged_paths(code, full, base):
    assert _paths_of(code) == (full, base)


def test_a_table_read_and_written_is_named_once():
    assert issues("UPDATE orders SET n = o2.n FROM orders o2 WHERE orders.id = o2.parent_id") == [
        ("TL101", "`orders` is updated and read without a `tenant_id` predicate")]


def test_an_interpolated_name_is_reported_where_it_is_interpolated_not_where_folded(tmp_path):
    report = _project(tmp_path, {"m.py": '''
        def delete_sql(table, where):
            delete = "DELETE FROM %s" % table
            if not where:
                return delete
            return f"{delete} WHERE {where}"


        def schema_only_folded(cur, schema):
            qualified = f"{schema}.orders"
            log(qualified)
            cur.execute(f"SELECT * FROM {qualified} WHERE tenant_id = %s")
    '''})
    assert [(d.location.line, d.code) for d in report.diagnostics] == [(3, "TL106"), (12, "TL106")]


def test_sql_files_report_one_finding_per_statement(tmp_path):
    report = _project(tmp_path, {"fix.sql": '''
        UPDATE orders SET name = customers.name FROM customers WHERE orders.cid = customers.id;
        DELETE FROM orders;
    '''})
    assert [(d.location.line, d.code, d.message) for d in report.diagnostics] == [
        (2, "TL101", "`orders` is updated and `customers` is read without a `tenant_id` predicate"),
        (3, "TL101", "`orders` is deleted from without a `tenant_id` predicate"),
    ]
