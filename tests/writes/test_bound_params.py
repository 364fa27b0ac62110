"""Which SQL parameters a text binds to the tenant column (for TL601)."""
from __future__ import annotations

import pytest

from tenantlint.sql.bound_params import tenant_parameters

COLUMNS = frozenset({"store_id"})


@pytest.mark.parametrize("sql, expected", [
    ("SELECT * FROM o WHERE store_id = :sid AND x = :y", {"sid"}),
    ("SELECT * FROM o WHERE :sid = o.store_id", {"sid"}),
    ("SELECT * FROM o WHERE a = %s AND o.store_id = %s", {2}),
    ("SELECT * FROM o WHERE a = %(a)s AND store_id = %(store)s", {"store"}),
    ("SELECT * FROM o WHERE a = ? AND store_id = ?", {2}),
    ("SELECT * FROM o WHERE store_id = ANY($1)", {1}),
    ("SELECT * FROM o WHERE store_id IN (:a, :b)", {"a", "b"}),
    ("SELECT * FROM o WHERE store_id IN %(ids)s", {"ids"}),
    ("UPDATE o SET store_id = %(s)s WHERE id = %(i)s", {"s"}),
    ("SELECT * FROM o WHERE id = :id", set()),
    ("SELECT * FROM o WHERE store_id = 3", set()),
    ("not sql at all store_id", set()),
])
def test_tenant_parameters(sql, expected):
    assert tenant_parameters(sql, COLUMNS) == frozenset(expected)

