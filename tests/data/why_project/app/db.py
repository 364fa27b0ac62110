import contextlib

import psycopg2


@contextlib.contextmanager
def tenant_scope(tenant_id):
    conn = psycopg2.connect("dbname=app")
    yield conn.cursor()
