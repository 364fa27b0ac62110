"""What counts as reading the ambient tenant (TL407), and project helpers that do."""
from __future__ import annotations

import ast

import pytest

from tenantlint.ambient import AmbientFact, AmbientTenant, ambient_functions, first_read
from tenantlint.names import ImportMap
from tenantlint.tenant_sources import TenantSources

MODULE = """
import contextvars
import threading
from flask import g, request

tenant_var = contextvars.ContextVar("tenant")
org = contextvars.ContextVar("org")
_state = threading.local()
tenants = {}
"""


def reads(expr: str, params=(), columns=("tenant_id",), helpers=frozenset()) -> str | None:
    tree = ast.parse(MODULE + f"\ndef f({', '.join(params)}):\n    return {expr}\n")
    imports = ImportMap(tree, "app.m")
    ambient = AmbientTenant(TenantSources((), columns, tree, imports), helpers=helpers)
    found = first_read(ambient, tree.body[-1])
    return found[1] if found else None


@pytest.mark.parametrize("expr, params, expected", [
    ("tenant_var.get()", (), "tenant_var.get()"),
    ("org.get()", (), "org.get()"),  # a ContextVar of the module, whatever its name
    ("g.tenant_id", (), "g.tenant_id"),
    ("request.tenant.id", (), "request.tenant.id"),
    ("_state.tenant_id", (), "_state.tenant_id"),
    ("get_current_tenant()", (), "get_current_tenant()"),
    ("request.tenant.id", ("request",), None),  # an argument, not ambient state
    ("self.tenant_id", ("self",), None),
    ("tenants.get(key)", ("key",), None),  # a mapping lookup
    ("get_tenant(tenant_id)", ("tenant_id",), None),
    ("g.user_name", (), None),
])
def test_reads(expr, params, expected):
    assert reads(expr, params) == expected


def test_org_columns_name_the_tenant():
    assert reads("g.org_id", columns=("org_id",)) == "g.org_id"
    assert reads("current_org()", columns=("org_id",)) == "current_org()"


def test_project_helpers_close_over_calls_across_modules():
    facts = [AmbientFact("a.py", "app.a", direct=("current",)),
             AmbientFact("b.py", "app.b", calls=(("rows", ("app.a.current",)), ("other", ("json.dumps",)))),
             AmbientFact("c.py", "app.c", calls=(("summary", ("app.b.rows",)),))]
    assert ambient_functions(facts) == frozenset({"app.a.current", "app.b.rows", "app.c.summary"})
    assert reads("summary(3)", helpers=frozenset({"app.c.summary"})) is None  # not imported here


def test_configured_tenant_sources_are_ambient_reads():
    tree = ast.parse("from app.auth import current_account\n\ndef f(x):\n    return load(x, current_account())\n")
    imports = ImportMap(tree, "app.m")
    ambient = AmbientTenant(TenantSources(("app.auth.current_account()",), ("tenant_id",), tree, imports))
    assert first_read(ambient, tree.body[-1])[1] == "current_account()"
