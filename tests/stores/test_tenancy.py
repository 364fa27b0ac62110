"""Key and filter judgement, table-driven: does an expression carry a tenant component?"""
from __future__ import annotations

import ast

import pytest

from tenantlint.stores.tenancy import Tenancy


def _expr(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


def judge(expr: str, kind: str, bindings: dict[str, str] | None = None, columns=("tenant_id",)):
    bound = {k: _expr(v) for k, v in (bindings or {}).items()}
    tenancy = Tenancy(columns, ("global:",), bound.get, lambda node: "")
    node = _expr(expr)
    return tenancy.key_scoped(node) if kind == "key" else tenancy.field_scoped(node)


@pytest.mark.parametrize("expr, bindings, scoped", [
    ('f"tenant:{tenant_id}:user:{user_id}"', None, True),
    ('f"user:{user_id}"', None, False),
    ('f"tenant:{user_id}"', None, False),  # text is not a tenant component
    ('"report:" + str(request.tenant.id)', None, True),
    ('"sessions:" + str(user_id)', None, False),
    ('"t:%s:doc:%s" % (tenant_id, doc_id)', None, True),
    ('"report:{}".format(report_id)', None, False),
    ('"report:{t}".format(t=self.tenant_id)', None, True),
    ('":".join(["t", str(org.tenant_id), name])', None, True),
    ('tenant_key(tid, "dashboard")', None, True),
    ('make_key(user_id)', None, False),
    ('key', {"key": 'f"t:{tenant_id}:x" if ok else f"t:{tenant.id}:y"'}, True),
    ('key', {"key": 'f"t:{tenant_id}:x" if ok else f"user:{uid}"'}, False),
    ('key', {"key": 'f"doc:{doc_id}"'}, False),
    ('key', None, False),  # a bare parameter named key
    ('tenant_cache_key', None, True),
    ('"global:flags"', None, True),
    ('PREFIX + name', {"PREFIX": '"global:"'}, True),
    ('[f"user:{u}" for u in ids]', None, False),
    ('[tenant_key(t, u) for u in ids]', None, True),
    ('"*:user:*"', None, False),
    ('f"{tenant_id}:user:*"', None, True),
])
def test_key(expr, bindings, scoped):
    assert judge(expr, "key", bindings) is scoped


@pytest.mark.parametrize("expr, bindings, scoped", [
    ('{"tenant_id": tenant_id}', None, True),
    ('{"tenant_id": {"$eq": tid}}', None, True),
    ('{"user_id": tenant_id}', None, False),  # the value is not a field
    ('{"user_id": {"$eq": user_id}}', None, False),
    ('{"$and": [{"tenant_id": {"$eq": t}}, {"user_id": u}]}', None, True),
    ('Filter(must=[FieldCondition(key="tenant_id", match=MatchValue(value=t))])', None, True),
    ('Filter(must=[FieldCondition(key="user_id", match=MatchValue(value=tenant_id))])', None, False),
    ('Filter.by_property("tenant_id").equal(t)', None, True),
    ('Filter.by_property("user_id").equal(t) & Filter.by_property("tenant_id").equal(x)', None, True),
    ('f"tenant_id == \'{t}\'"', None, True),
    ('f"user_id == {tenant_id}"', None, False),
    ('tenant_filter', None, True),
    ('flt', {"flt": '{"tenant_id": t}'}, True),
    ('flt', None, False),
    ('[{"tenant_id": t} for _ in ids]', None, True),
    ('dict(tenant_id=t)', None, True),
    ('MetadataFilters(filters=[MetadataFilter(key="author", value=a)])', None, False),
    ('MetadataFilters(filters=[tenant_clause])', None, True),
])
def test_filter(expr, bindings, scoped):
    assert judge(expr, "field", bindings) is scoped


def test_configured_tenant_column_and_its_relation():
    assert judge('f"org:{team_id}:x"', "key", columns=("team_id",))
    assert judge('f"x:{request.team.id}"', "key", columns=("team_id",))
    assert judge('{"team_id": t}', "field", columns=("team_id",))
    assert not judge('{"user_id": t}', "field", columns=("team_id",))
