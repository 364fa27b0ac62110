"""Order queries: scoped, unscoped, suppressed."""


def order(cur, tenant_id, order_id):
    cur.execute("SELECT * FROM orders WHERE tenant_id = %s AND id = %s", (tenant_id, order_id))
    return cur.fetchone()


def order_by_id(cur, order_id):
    cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
    return cur.fetchone()


def items_of(cur, tenant_id, order_id):
    cur.execute(
        "SELECT o.id, li.sku FROM orders o JOIN line_items li ON li.order_id = o.id "
        "WHERE o.tenant_id = %s AND o.id = %s",
        (tenant_id, order_id),
    )
    return cur.fetchall()


def admin_totals(cur):
    cur.execute("SELECT SUM(total) FROM orders")  # tenantlint: ignore[TL101] admin report, all tenants
    return cur.fetchone()


def plans(cur):
    cur.execute("SELECT id, name FROM plans")
    return cur.fetchall()
