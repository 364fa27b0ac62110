"""A nightly job that opens its own connection."""
import psycopg2


def nightly():
    conn = psycopg2.connect("postgresql://app@localhost/app")
    with conn.cursor() as cur:
        cur.execute("DELETE FROM line_items WHERE sku = 'x' OR tenant_id = %s", (1,))
