"""Scope providers named by a class path: `self.method(...)` in that class or a subclass."""
from __future__ import annotations

from tenantlint.api import scan_paths

STORE = '''
class Store:
    def paginate(self, cur, sql):
        return cur.execute(sql)

    def orders(self, cur):
        return self.paginate(cur, "SELECT * FROM orders")


class SqlStore(Store):
    def invoices(self, cur):
        sql = "SELECT * FROM orders WHERE paid"
        return self.paginate(cur, sql)


class Unrelated:
    def orders(self, cur):
        return self.paginate(cur, "SELECT * FROM orders")  # expect: TL101


def helper(cur):
    return paginate(cur, "SELECT * FROM orders")  # expect: TL101
'''


def test_method_provider_by_class_path(tmp_path):
    (tmp_path / "tenantlint.toml").write_text(
        'tenant-tables = ["orders"]\nscope-providers = ["app.store.Store.paginate"]\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "store.py").write_text(STORE)
    report = scan_paths(["."], cwd=tmp_path)
    expected = [n for n, line in enumerate(STORE.splitlines(), 1) if "# expect: TL101" in line]
    lines = sorted(d.location.line for d in report.diagnostics if d.code == "TL101")
    assert lines == expected and len(expected) == 2  # `Unrelated` and a bare call are not the provider
