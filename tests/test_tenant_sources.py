"""tenant_sources: is an expression the authenticated tenant, or request input?

Each case is a function whose last statement is `probe(<expr>)`; the answer is read for
that expression, with the function's imports and local variables."""
from __future__ import annotations

import ast
import textwrap

import pytest

from tenantlint.config import ConfigError, settings_from_mapping
from tenantlint.names import ImportMap
from tenantlint.tenant_sources import TenantSources


def probe(source: str, configured=(), columns=("tenant_id", "store_id"), module_name="app.views"):
    module = ast.parse(textwrap.dedent(source))
    sources = TenantSources(configured, columns, module, ImportMap(module, module_name))
    func = next(n for n in ast.walk(module) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and n.name == "view")
    call = func.body[-1].value
    assert isinstance(call, ast.Call) and call.func.id == "probe"
    values = sources.function(func)
    return values.is_tenant(call.args[0]), values.request_input(call.args[0]) is not None


TENANT = (True, False)
INPUT = (False, True)
NEITHER = (False, False)


@pytest.mark.parametrize("body, expected", [
    # Django / DRF
    ("def view(request):\n    probe(request.tenant)", TENANT),
    ("def view(request):\n    probe(request.tenant.id)", TENANT),
    ("def view(request):\n    probe(request.store)", TENANT),
    ("def view(request):\n    probe(request.user.store_id)", TENANT),
    ("def view(self):\n    probe(self.request.tenant.pk)", TENANT),
    ("def view(self):\n    probe(self.tenant_id)", TENANT),
    ("def view(request):\n    probe(request.user.id)", NEITHER),
    ("def view(request):\n    probe(request.GET['tenant_id'])", INPUT),
    ("def view(request):\n    probe(request.GET.get('store'))", INPUT),
    ("def view(request):\n    probe(request.POST['store_id'])", INPUT),
    ("def view(self, request):\n    probe(request.data['tenant'])", INPUT),
    ("def view(self):\n    probe(self.request.query_params.get('tenant'))", INPUT),
    ("def view(request):\n    probe(request.headers['X-Tenant'])", INPUT),
    ("def view(request):\n    probe(request.COOKIES['tenant'])", INPUT),
    ("def view(request):\n    probe(request.META['HTTP_X_TENANT'])", INPUT),
    ("def view(request):\n    probe(request.GET.tenant_id)", INPUT),  # a name never launders input
    # path parameters are not request input
    ("def view(request, tenant_id):\n    probe(tenant_id)", NEITHER),
    ("def view(self, request, pk=None):\n    probe(self.kwargs['store_id'])", NEITHER),
    # through local variables, casts, f-strings, methods
    ("def view(request):\n    sid = request.GET['store_id']\n    probe(sid)", INPUT),
    ("def view(request):\n    sid = int(request.GET['store_id'])\n    probe(sid)", INPUT),
    ("def view(request):\n    raw = request.GET['s']\n    sid = UUID(raw.strip())\n    probe(sid)", INPUT),
    ("def view(request):\n    probe(f\"{request.GET['s']}\")", INPUT),
    ("def view(request):\n    probe('org-' + request.POST['s'])", INPUT),
    ("def view(request):\n    sid = request.store.id\n    probe(sid)", TENANT),
    ("def view(request):\n    store = request.store\n    probe(store.id)", TENANT),
    ("def view(request, flag):\n    sid = request.store.id\n    if flag:\n        sid = request.GET['s']\n"
     "    probe(sid)", INPUT),
    ("def view(request):\n    body = request.data\n    probe(body['store_id'])", INPUT),
    ("def view(request):\n    for sid in request.GET.getlist('s'):\n        pass\n    probe(sid)", INPUT),
    ("def view(request):\n    a, b = request.GET['a'], request.store\n    probe(b)", TENANT),
    ("def view(request):\n    a, b = request.GET['a'], request.store\n    probe(a)", INPUT),
])
def test_django(body, expected):
    assert probe(body) == expected


@pytest.mark.parametrize("body, expected", [
    ("from flask import request, g\ndef view():\n    probe(request.args['store'])", INPUT),
    ("from flask import request as rq\ndef view():\n    probe(rq.args['store'])", INPUT),
    ("from flask import request\ndef view():\n    probe(request.get_json()['store_id'])", INPUT),
    ("from flask import request\ndef view():\n    probe(request.json.get('store_id'))", INPUT),
    ("from flask import request\ndef view():\n    probe(request.form['store_id'])", INPUT),
    ("from flask import request\ndef view():\n    probe(request.values.get('store_id'))", INPUT),
    ("from flask import request\ndef view():\n    probe(request.cookies['store'])", INPUT),
    ("from flask import g\ndef view():\n    probe(g.store_id)", TENANT),
    ("import flask\ndef view():\n    probe(flask.g.store.id)", TENANT),
    ("from flask import g\ndef view():\n    probe(g.user_id)", NEITHER),
    # a helper of the module that reads the request, or passes its argument through
    ("from flask import request\ndef store_param():\n    return request.args['store']\n"
     "def view():\n    probe(store_param())", INPUT),
    ("def parse_id(value):\n    return int(value.strip())\n"
     "def view(request):\n    probe(parse_id(request.GET['s']))", INPUT),
    ("def lookup(value):\n    return 7\n"
     "def view(request):\n    probe(lookup(request.GET['s']))", NEITHER),
])
def test_flask_and_helpers(body, expected):
    assert probe(body) == expected


@pytest.mark.parametrize("body, expected", [
    ("async def view(request):\n    probe((await request.json())['store_id'])", INPUT),
    ("async def view(request):\n    body = await request.json()\n    probe(body['store_id'])", INPUT),
    ("async def view(request):\n    form = await request.form()\n    probe(form['store_id'])", INPUT),
    ("async def view(request):\n    probe(request.query_params['store_id'])", INPUT),
    ("async def view(request):\n    probe(request.path_params['store_id'])", NEITHER),
    ("async def view(request):\n    probe(request.state.tenant_id)", TENANT),
    ("from fastapi import Query\nasync def view(store_id: int = Query(...)):\n    probe(store_id)", INPUT),
    ("from fastapi import Header\nfrom typing import Annotated\n"
     "async def view(store_id: Annotated[str, Header()]):\n    probe(store_id)", INPUT),
    ("async def view(store_id: int):\n    probe(store_id)", NEITHER),
])
def test_starlette_fastapi(body, expected):
    assert probe(body) == expected


@pytest.mark.parametrize("body, expected", [
    ("import threading\n_local = threading.local()\ndef view():\n    probe(_local.tenant)", TENANT),
    ("from contextvars import ContextVar\ncurrent_store = ContextVar('s')\ndef view():\n"
     "    probe(current_store.get())", TENANT),
    ("from app.ctx import current_tenant\ndef view():\n    probe(current_tenant.get())", TENANT),
    ("def view(cache):\n    probe(cache.get())", NEITHER),
    ("def view(tenants):\n    probe(tenants.get('a'))", NEITHER),
])
def test_ambient_guesses(body, expected):
    assert probe(body) == expected


@pytest.mark.parametrize("body, configured, expected", [
    ("from app.auth import current_org\ndef view():\n    probe(current_org())", ["app.auth.current_org()"], TENANT),
    ("from app.auth import current_org\ndef view():\n    probe(current_org().id)", ["app.auth.current_org()"],
     TENANT),
    ("from app.auth import current_org\ndef view():\n    probe(current_org())", [], NEITHER),
    ("from app import context\ndef view():\n    probe(context.active.get())", ["app.context.active"], TENANT),
    ("def view(request):\n    probe(request.account.pk)", ["request.account"], TENANT),
    ("def view(request):\n    probe(request.account.pk)", [], NEITHER),
    ("def view(request):\n    acct = request.account\n    probe(acct.pk)", ["request.account"], TENANT),
    # a configured source is trusted even when it reads the request (a gateway's header)
    ("from app.auth import gateway_tenant\ndef gateway_tenant_of(request):\n    return 1\n"
     "def view(request):\n    probe(gateway_tenant(request))", ["app.auth.gateway_tenant()"], TENANT),
    ("from flask import request\ndef gateway_tenant():\n    return request.headers['X-Tenant']\n"
     "def view():\n    probe(gateway_tenant())", ["app.views.gateway_tenant()"], TENANT),
    ("from flask import request\ndef gateway_tenant():\n    return request.headers['X-Tenant']\n"
     "def view():\n    probe(gateway_tenant())", [], INPUT),
])
def test_configured_sources(body, configured, expected):
    assert probe(body, configured=configured) == expected


def test_config_key_parsed(tmp_path):
    settings = settings_from_mapping({"tenant-sources": ["request.tenant", " app.auth.current_org() "]},
                                     root=tmp_path)
    assert settings.tenant_sources == ("request.tenant", "app.auth.current_org()")


@pytest.mark.parametrize("entry", ["request.", "request tenant", "a..b", "f(x)", "", "1abc", "a.b()c"])
def test_malformed_entry_is_a_config_error(tmp_path, entry):
    with pytest.raises(ConfigError, match="tenant-sources"):
        settings_from_mapping({"tenant-sources": [entry]}, root=tmp_path)


def test_malformed_entry_exits_2(tmp_path):
    from click.testing import CliRunner

    from tenantlint.cli import main

    (tmp_path / "tenantlint.toml").write_text('tenant-sources = ["request..tenant"]\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    result = CliRunner().invoke(main, ["scan", "--config", str(tmp_path / "tenantlint.toml"), str(tmp_path)])
    assert result.exit_code == 2
    assert "tenant-sources" in result.output
