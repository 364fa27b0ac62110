"""TL201/TL202/TL203 fixes: narrow the query by the tenant in reach, or give the new
row its tenant.

- Django: `Model.objects...` -> `Model.objects.filter(team=team)...`;
  `get_object_or_404(Model, pk=pk)` gains `team=team`; `Model.objects.create(...)` and
  `Model(...)` gain the tenant keyword.
- SQLAlchemy: `select(Model)` / `update(Model)` / `delete(Model)` ->
  `select(Model).where(Model.team_id == team_id)`; `session.query(Model)` and
  `Model.query` -> `.filter(Model.team_id == team_id)`; `Model(...)` gains the column."""
from __future__ import annotations

import re

import libcst as cst

from tenantlint.catalog import TenantCatalog
from tenantlint.diagnostics import Diagnostic
from tenantlint.fixes import Edit, Fix, NoFix
from tenantlint.fixes.reach import Judge, TenantValue, tenant_value
from tenantlint.fixes.tree import CstFile

_MODELS = re.compile(r"`([A-Za-z_][\w.]*)`(?: \([^)]*\))?")
_STATEMENTS = {"select": "where", "update": "where", "delete": "where"}
_SHORTCUTS = ("get_object_or_404", "get_list_or_404")
_CREATES = ("create", "get_or_create", "update_or_create")


def fix_orm(diag: Diagnostic, tree: CstFile, catalog: TenantCatalog, judge: Judge | None = None) -> Fix | NoFix:
    names = [n for n in _MODELS.findall(diag.message) if catalog.model(n) is not None]
    names = list(dict.fromkeys(names))
    if len(names) != 1:
        return NoFix("several models or none named: narrow each by hand")
    model = catalog.model(names[0])
    columns = sorted(model.tenant_columns)
    if len(columns) != 1:
        return NoFix("the model has several tenant columns")
    column = columns[0]
    nodes = tree.within(diag.location)
    if not nodes:
        return NoFix("the flagged code was not found")
    value = tenant_value(tree, nodes[0], column, judge)
    if value is None:
        return NoFix("no tenant value in reach")
    if model.framework == "django":
        return _django(diag, tree, nodes, model, column, value)
    if model.framework in ("sqlalchemy", "sqlmodel"):
        return _sqlalchemy(diag, tree, nodes, model.name, column, value)
    return NoFix(f"no fix for {model.framework} models yet")


def _last(code: str) -> str:
    return code.rsplit(".", 1)[-1]


def _django_keyword(model, column: str, value: TenantValue) -> str:
    relation = next((r for r in model.tenant_relations if r + "_id" == column), None)
    if not value.is_id and relation:
        return f"{relation}={value.code}"
    return f"{column}={value.id_code()}"


def _django(diag, tree: CstFile, nodes, model, column: str, value: TenantValue) -> Fix | NoFix:
    keyword = _django_keyword(model, column, value)
    calls = [n for n in nodes if isinstance(n, cst.Call)]
    if diag.code == "TL203":
        for call in calls:
            func = tree.code(call.func)
            if _last(func) in _CREATES or _last(func) == model.name:
                return _add_keyword(tree, call, keyword, f"create the `{model.name}` row with `{keyword}`")
        return NoFix("the write was not found")
    for call in calls:
        if _last(tree.code(call.func)) in _SHORTCUTS and call.args and _last(tree.code(call.args[0].value)) == model.name:
            return _add_keyword(tree, call, keyword, f"narrow by `{keyword}`")
    for node in nodes:
        if isinstance(node, cst.Attribute) and _last(tree.code(node.value)) in (model.name, "model") \
                and not node.attr.value.startswith("_"):
            _start, end = tree.span(node)
            return Fix(f"narrow by `.filter({keyword})`", (Edit(end, end, f".filter({keyword})"),))
    return NoFix("no manager expression to narrow")


def _sqlalchemy(diag, tree: CstFile, nodes, model: str, column: str, value: TenantValue) -> Fix | NoFix:
    if diag.code == "TL203":
        for call in (n for n in nodes if isinstance(n, cst.Call)):
            if _last(tree.code(call.func)) == model:
                keyword = f"{column}={value.id_code()}"
                return _add_keyword(tree, call, keyword, f"create the `{model}` row with `{keyword}`")
        return NoFix("the write was not found")
    for node in nodes:
        if isinstance(node, cst.Call) and node.args:
            name = _last(tree.code(node.func))
            method = _STATEMENTS.get(name) or ("filter" if name == "query" else None)
            ref = _model_reference(tree, node, model) if method else None
            if ref is None:
                continue
            condition = f"{ref}.{column} == {value.id_code()}"
            _start, end = tree.span(node)
            return Fix(f"narrow by `{condition}`", (Edit(end, end, f".{method}({condition})"),))
        if isinstance(node, cst.Attribute) and node.attr.value == "query" and _last(tree.code(node.value)) == model:
            condition = f"{tree.code(node.value)}.{column} == {value.id_code()}"
            _start, end = tree.span(node)
            return Fix(f"narrow by `{condition}`", (Edit(end, end, f".filter({condition})"),))
    return NoFix("an id lookup or a query form with no place for a tenant filter")


def _model_reference(tree: CstFile, call: cst.Call, model: str) -> str | None:
    """How the statement names the flagged model: `Board`, `models.Board`, the class of
    `Board.id` in `select(Board.id, Board.name)`, or the one class it selects when the
    model is imported under a name that keeps its own (`Message as MessageModel`): a
    statement whose flagged model is only joined gets no fix."""
    named: list[str] = []
    for arg in call.args:
        value = arg.value
        code = tree.code(value)
        if isinstance(value, (cst.Name, cst.Attribute)) and _last(code) == model:
            return code
        if isinstance(value, cst.Attribute) and _last(tree.code(value.value)) == model:
            return tree.code(value.value)
        if isinstance(value, cst.Name) and value.value[:1].isupper():
            named.append(code)
        elif isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value[:1].isupper():
            named.append(value.value.value)
    # an alias that keeps the class's name in it (`MessageModel`, `ORMProvider`)
    return named[0] if len(set(named)) == 1 and model in named[0] else None


def _add_keyword(tree: CstFile, call: cst.Call, keyword: str, title: str) -> Fix | NoFix:
    if any(arg.keyword is not None and arg.keyword.value == keyword.split("=")[0] for arg in call.args):
        return NoFix("the call already passes the tenant keyword")
    if call.args:
        _start, end = tree.span(call.args[-1].value)
        return Fix(title, (Edit(end, end, f", {keyword}"),))
    _start, end = tree.span(call)
    return Fix(title, (Edit(end - 1, end - 1, keyword),))
