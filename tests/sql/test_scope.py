"""Table-driven scope cases: one row per SQL shape, the exact set of codes expected."""
import pytest

from sql_helpers import codes

CASES = [
    # -- the basics
    ("SELECT * FROM orders WHERE id = %s", {"TL101"}),
    ("SELECT * FROM orders WHERE tenant_id = %s", set()),
    ("SELECT id, total FROM orders WHERE tenant_id = %s AND customer_id = %s", set()),
    ("SELECT * FROM orders", {"TL101"}),
    ("SELECT * FROM orders WHERE status = 'open'", {"TL101"}),
    ("SELECT code, name FROM countries ORDER BY name", set()),
    ("SELECT * FROM plans", set()),  # listed as tenant table but global wins
    ("SELECT * FROM audit WHERE id = %s", set()),  # trusted (RLS forced)
    ("SELECT 1", set()),
    # -- constants, scope expressions, lists
    ("SELECT * FROM orders WHERE tenant_id = 42", set()),
    ("SELECT * FROM orders WHERE tenant_id = 'acme'", set()),
    ("SELECT * FROM orders WHERE 'acme' = tenant_id", set()),
    ("SELECT * FROM orders WHERE tenant_id = current_setting('app.tenant_id')", set()),
    ("SELECT * FROM orders WHERE tenant_id = current_setting('app.tenant_id')::uuid", set()),
    ("SELECT * FROM orders WHERE tenant_id = current_setting('app.tenant_id', true)::uuid", set()),
    ("SELECT * FROM orders WHERE tenant_id = app.current_tenant_id()", set()),
    ("SELECT * FROM orders WHERE tenant_id = CAST(%s AS uuid)", set()),
    ("SELECT * FROM orders WHERE tenant_id IN (%s, %s)", set()),
    ("SELECT * FROM orders WHERE tenant_id IN %s", set()),
    ("SELECT * FROM orders WHERE tenant_id = ANY(%s)", set()),
    ("SELECT * FROM orders WHERE tenant_id = ANY(%s::uuid[])", set()),
    ("SELECT * FROM orders WHERE tenant_id IN (SELECT id FROM tenants)", {"TL101"}),
    ("SELECT * FROM orders WHERE tenant_id = %s OR tenant_id = %s", set()),
    ("SELECT * FROM orders WHERE tenant_id > 0", {"TL101"}),
    ("SELECT * FROM orders WHERE (tenant_id = %s) AND (id = %s)", set()),
    # -- weakened predicates
    ("SELECT * FROM documents WHERE tenant_id = %s OR is_public", {"TL102"}),
    ("SELECT * FROM orders WHERE tenant_id = tenant_id", {"TL102"}),
    ("SELECT * FROM orders o WHERE o.tenant_id = o.tenant_id", {"TL102"}),
    ("SELECT * FROM orders WHERE tenant_id IS NOT NULL", {"TL102"}),
    ("SELECT * FROM orders WHERE tenant_id <> %s", {"TL102"}),
    ("SELECT * FROM orders WHERE tenant_id != %s", {"TL102"}),
    ("SELECT * FROM orders WHERE NOT (tenant_id = %s)", {"TL102"}),
    ("SELECT * FROM orders WHERE tenant_id NOT IN (%s)", {"TL102"}),
    ("SELECT * FROM orders WHERE tenant_id = %s AND (tenant_id = %s OR TRUE)", set()),
    ("SELECT * FROM orders WHERE id = %s AND (tenant_id = %s OR is_admin)", {"TL102"}),
    # -- aliases, qualification, quoting
    ("SELECT o.id FROM orders AS o WHERE o.tenant_id = %(tid)s", set()),
    ("SELECT o.id FROM orders o WHERE o.id = %s", {"TL101"}),
    ("SELECT o.id FROM orders o WHERE orders.tenant_id = %s", {"TL101"}),  # alias hides the name
    ("SELECT * FROM public.orders WHERE tenant_id = %s", set()),
    ("SELECT * FROM public.orders WHERE id = %s", {"TL101"}),
    ('SELECT * FROM public."Orders" WHERE id = %s', {"TL101"}),
    ('SELECT * FROM "ORDERS" WHERE "tenant_id" = %s', set()),
    ("SELECT * FROM ORDERS WHERE TENANT_ID = %s", set()),
    ("SELECT tenant_id.id FROM orders tenant_id WHERE tenant_id.id = %s", {"TL101"}),
    ("SELECT * FROM orders tenant_id WHERE id = %s", {"TL101"}),
    ("SELECT * FROM projects WHERE org_id = %s", set()),  # per-table tenant column
    ("SELECT * FROM projects WHERE tenant_id = %s", {"TL101"}),
    # -- joins
    ("SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
     "AND c.tenant_id = o.tenant_id WHERE o.tenant_id = %s", set()),
    ("SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.tenant_id = %s",
     {"TL104"}),
    ("SELECT * FROM orders o JOIN customers c USING (tenant_id) WHERE o.tenant_id = %s", set()),
    ("SELECT * FROM orders o JOIN customers c USING (id) WHERE o.tenant_id = %s", {"TL104"}),
    ("SELECT * FROM orders o JOIN customers c ON c.tenant_id = %s AND c.id = o.cid WHERE o.tenant_id = %s",
     set()),
    ("SELECT * FROM orders o JOIN customers c ON c.tenant_id = o.tenant_id", {"TL101"}),
    ("SELECT * FROM orders o, customers c WHERE c.tenant_id = o.tenant_id AND o.tenant_id = %s", set()),
    ("SELECT * FROM orders o LEFT JOIN order_items i ON i.order_id = o.id AND i.tenant_id = o.tenant_id "
     "JOIN customers c ON c.tenant_id = i.tenant_id WHERE o.tenant_id = $1", set()),
    ("SELECT c.email, k.name FROM customers c JOIN countries k ON k.code = c.country WHERE c.tenant_id = %s",
     set()),
    ("SELECT * FROM orders o JOIN customers c ON c.id = o.cid WHERE o.tenant_id = %s OR c.tenant_id = %s",
     {"TL102"}),
    ("SELECT * FROM orders o JOIN customers c ON c.id = o.cid WHERE o.tenant_id = %s "
     "AND c.tenant_id <> o.tenant_id", {"TL102"}),
    ("SELECT * FROM orders a JOIN orders b ON b.id = a.parent_id WHERE a.tenant_id = %s", {"TL104"}),
    ("SELECT * FROM orders JOIN countries ON countries.code = orders.country WHERE tenant_id = %s", set()),
    # -- CTEs, derived tables, subqueries, LATERAL, set operations
    ("WITH recent AS (SELECT * FROM orders WHERE tenant_id = %s AND created_at > now()) "
     "SELECT count(*) FROM recent", set()),
    ("WITH recent AS (SELECT * FROM orders WHERE created_at > now()) SELECT count(*) FROM recent", {"TL101"}),
    ("WITH orders AS (SELECT * FROM orders WHERE tenant_id = %s) SELECT * FROM orders", set()),
    ("WITH RECURSIVE tree AS (SELECT id FROM documents WHERE tenant_id = %s "
     "UNION ALL SELECT d.id FROM documents d JOIN tree t ON d.parent_id = t.id) SELECT * FROM tree", {"TL101"}),
    ("SELECT * FROM (SELECT * FROM orders WHERE tenant_id = %s) x WHERE x.total > 5", set()),
    ("SELECT * FROM (SELECT * FROM orders) x WHERE x.tenant_id = %s", {"TL101"}),
    ("SELECT id, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) FROM orders o "
     "WHERE o.tenant_id = %s", {"TL101"}),
    ("SELECT id, (SELECT count(*) FROM order_items i WHERE i.order_id = o.id AND i.tenant_id = o.tenant_id) "
     "FROM orders o WHERE o.tenant_id = %s", set()),
    ("SELECT * FROM orders o WHERE o.tenant_id = %s AND EXISTS "
     "(SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.tenant_id = o.tenant_id)", set()),
    ("SELECT * FROM orders o WHERE o.tenant_id = %s AND o.customer_id IN (SELECT id FROM customers WHERE vip)",
     {"TL101"}),
    ("SELECT * FROM orders o WHERE o.id = %s AND EXISTS "
     "(SELECT 1 FROM order_items i WHERE i.tenant_id = o.tenant_id)", {"TL101"}),
    ("SELECT * FROM orders o, LATERAL (SELECT * FROM order_items i WHERE i.order_id = o.id "
     "AND i.tenant_id = o.tenant_id) x WHERE o.tenant_id = %s", set()),
    ("SELECT * FROM orders o CROSS JOIN LATERAL (SELECT * FROM order_items i WHERE i.order_id = o.id) x "
     "WHERE o.tenant_id = %s", {"TL101"}),
    ("SELECT id FROM orders WHERE tenant_id = %s UNION ALL SELECT id FROM documents", {"TL101"}),
    ("SELECT id FROM orders WHERE tenant_id = %s UNION SELECT id FROM documents WHERE tenant_id = %s", set()),
    ("SELECT id FROM orders WHERE tenant_id = %s EXCEPT SELECT id FROM documents", {"TL101"}),
    ("(SELECT id FROM orders WHERE tenant_id = %s) INTERSECT (SELECT id FROM customers WHERE tenant_id = %s)",
     set()),
    # -- UPDATE / DELETE / MERGE
    ("UPDATE orders SET status = 'void' WHERE id = %s", {"TL101"}),
    ("UPDATE orders SET status = 'void' WHERE id = %s AND tenant_id = %s", set()),
    ("UPDATE orders o SET total = 0 FROM customers c WHERE c.id = o.cid AND o.tenant_id = %s", {"TL104"}),
    ("UPDATE orders o SET total = 0 FROM customers c WHERE c.id = o.cid AND c.tenant_id = o.tenant_id "
     "AND o.tenant_id = %s", set()),
    ("UPDATE orders SET total = (SELECT sum(x) FROM order_items WHERE order_id = orders.id) "
     "WHERE tenant_id = %s", {"TL101"}),
    ("UPDATE orders SET status = 'x' WHERE tenant_id = %s RETURNING id, tenant_id", set()),
    ("UPDATE orders SET status = 'x' RETURNING id", {"TL101"}),
    ("DELETE FROM order_items", {"TL101"}),
    ("DELETE FROM order_items WHERE tenant_id = %s AND id = %s RETURNING *", set()),
    ("DELETE FROM orders o USING customers c WHERE c.id = o.cid AND c.tenant_id = %s "
     "AND o.tenant_id = c.tenant_id", set()),
    ("DELETE FROM orders o USING customers c WHERE c.id = o.cid AND c.tenant_id = %s", {"TL104"}),
    ("MERGE INTO orders o USING staging s ON o.id = s.id AND o.tenant_id = %s "
     "WHEN MATCHED THEN UPDATE SET total = s.total", set()),
    ("MERGE INTO orders o USING staging s ON o.id = s.id WHEN MATCHED THEN UPDATE SET total = s.total", {"TL101"}),
    ("MERGE INTO orders o USING customers c ON o.cid = c.id AND o.tenant_id = %s "
     "WHEN MATCHED THEN DELETE", {"TL104"}),
    ("MERGE INTO orders o USING (SELECT * FROM customers WHERE tenant_id = %s) c "
     "ON o.cid = c.id AND o.tenant_id = c.tenant_id WHEN MATCHED THEN DELETE", {"TL101"}),
    ("MERGE INTO orders o USING staging s ON o.id = s.id AND o.tenant_id = %s "
     "WHEN NOT MATCHED THEN INSERT (id, total) VALUES (s.id, s.total)", {"TL103"}),
    # -- INSERT
    ("INSERT INTO orders (id, customer_id, total) VALUES (%s, %s, %s)", {"TL103"}),
    ("INSERT INTO orders (id, tenant_id, customer_id, total) VALUES (%s, %s, %s, %s)", set()),
    ("INSERT INTO orders VALUES (%s, %s, %s)", set()),  # no column list: cannot tell
    ("INSERT INTO countries (code) VALUES (%s)", set()),
    ("INSERT INTO public.orders (id) VALUES (1)", {"TL103"}),
    ("INSERT INTO order_archive (id, tenant_id, total) SELECT id, tenant_id, total FROM orders "
     "WHERE created_at < %s", {"TL101"}),
    ("INSERT INTO order_items (id, tenant_id) SELECT id, tenant_id FROM orders WHERE tenant_id = %s", set()),
    ("INSERT INTO order_items (id) SELECT id FROM orders WHERE tenant_id = %s", {"TL103"}),
    ("INSERT INTO orders (id, tenant_id) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET total = excluded.total",
     set()),
    ("INSERT INTO orders (id, total) VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET total = excluded.total",
     {"TL103"}),
    ("INSERT INTO orders (id, tenant_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING id", set()),
    ("WITH src AS (SELECT * FROM customers) INSERT INTO orders (id, tenant_id) SELECT id, tenant_id FROM src",
     {"TL101"}),
    # -- several statements
    ("SELECT * FROM orders WHERE tenant_id = %s; DELETE FROM documents", {"TL101"}),
    ("UPDATE orders SET x = 1 WHERE tenant_id = %s; INSERT INTO orders (id) VALUES (1);", {"TL103"}),
    # -- comments never count
    ("SELECT * FROM orders WHERE id = $1 -- tenant_id = $2", {"TL101"}),
    ("SELECT * FROM orders WHERE id = $1 /* AND tenant_id = $2 */", {"TL101"}),
    ("-- list orders\nSELECT * FROM orders WHERE tenant_id = $1", set()),
    ("SELECT * FROM orders WHERE note = '-- tenant_id = 1' AND id = %s", {"TL101"}),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_scope(sql, expected):
    assert codes(sql) == expected


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_scoped_keeps_only_session_rules(sql, expected):
    assert codes(sql, scoped=True) == set()


def test_messages_name_table_and_column():
    from sql_helpers import POLICY
    from tenantlint.sql import SqlText, analyze_sql

    def message(sql):
        (issue,) = analyze_sql(SqlText(sql), POLICY)
        return issue.table, issue.message

    assert message("SELECT * FROM orders WHERE id = %s") == (
        "orders", "`orders` is read without a `tenant_id` predicate")
    assert message("SELECT * FROM documents WHERE tenant_id = %s OR x") == (
        "documents", "`documents`: the `tenant_id` predicate is weakened by OR")
    assert message("SELECT * FROM orders o JOIN customers c ON c.id = o.cid WHERE o.tenant_id = %s") == (
        "customers", "`customers` is joined without tying its `tenant_id` to the anchored tenant")
    assert message("INSERT INTO orders (id) VALUES (1)") == ("orders", "INSERT into `orders` does not set `tenant_id`")
    assert message("DELETE FROM orders WHERE id = 1")[1] == "`orders` is deleted from without a `tenant_id` predicate"


def test_one_issue_per_distinct_finding():
    from sql_helpers import POLICY
    from tenantlint.sql import SqlText, analyze_sql

    issues = analyze_sql(SqlText("SELECT id FROM orders UNION SELECT id FROM orders"), POLICY)
    assert [i.code for i in issues] == ["TL101"]
