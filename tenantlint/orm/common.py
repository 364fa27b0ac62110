"""What both ORM analyses share: telling a tenant model from any other name, and a
call's arguments in source order."""
from __future__ import annotations

import ast
from typing import NamedTuple

from tenantlint.names import dotted


class Models:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.catalog = ctx.catalog
        self.imports = ctx.imports
        self._cache: dict[str, str | None] = {}
        # In a method: `self.model` -> the tenant models the class (or a subclass) binds it to.
        self.bound: dict[str, frozenset[str]] = {}

    def model_of(self, node: ast.expr, framework: str | None = None) -> str | None:
        """The tenant model a Name/Attribute names (`Invoice`, `models.Invoice`), else None."""
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        name = dotted(node)
        if name is None:
            return None
        if name not in self._cache:
            self._cache[name] = self._lookup(node, name)
        model = self._cache[name]
        if model is None or framework is None:
            return model
        orm = self.catalog.orm.get(model)
        return model if orm is None or orm.framework == framework else None

    def models_of(self, node: ast.expr, framework: str | None = None) -> frozenset[str]:
        """`model_of`, and the models an attribute of `self` is bound to (`self.model`)."""
        if self.bound and isinstance(node, (ast.Attribute, ast.Name)):
            # `self.model`, and `cls` in a classmethod: the class and its tenant subclasses.
            models = self.bound.get(dotted(node) or "")
            if models is not None:
                if framework is None:
                    return models
                return frozenset(m for m in models if getattr(self.orm(m), "framework", framework) == framework)
        model = self.model_of(node, framework)
        return frozenset({model}) if model else frozenset()

    def _lookup(self, node, name: str) -> str | None:
        if name.split(".")[0] in ("self", "cls"):
            return None
        # The class the name stands for once the file's imports are resolved:
        # `from app.models import Agent as AgentModel` makes `AgentModel` the model `Agent`
        # (and not some other model that happens to be called `AgentModel`).
        qualified = self.imports.qualify(node) if self.imports else None
        last = (qualified or name).rsplit(".", 1)[-1]
        info = self.catalog.models.get(last)
        if info is None:
            return None
        module = self.ctx.module_name
        # A class of the same name defined in this file is not the model (unless it is).
        if qualified and module and qualified.startswith(module + ".") and "." not in qualified[len(module) + 1:]:
            if info.qualname != qualified and info.path != self.ctx.path:
                return None
        return last

    def info(self, model: str):
        return self.catalog.models.get(model)

    def orm(self, model: str):
        return self.catalog.orm.get(model)

    def tenant_names(self, model: str) -> frozenset[str]:
        """Tenant columns and tenant relation names of a model."""
        info = self.info(model)
        if info is None:
            return frozenset()
        return info.tenant_columns | info.tenant_relations


def call_name(node: ast.expr) -> str:
    """`and_` for `sa.and_(...)`, `Q` for `models.Q(...)`."""
    if isinstance(node, ast.Call):
        node = node.func
    name = dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return name.rsplit(".", 1)[-1] if name else ""


class Arg(NamedTuple):
    """One argument of a call: `value` (without its star), `keyword` (None for a
    positional, `*x` or `**x` argument) and `star` ('', '*' or '**')."""
    value: ast.expr
    keyword: str | None
    star: str


def call_args(call: ast.Call) -> list[Arg]:
    """A call's arguments in source order (ast keeps keywords apart from positionals)."""
    out = [Arg(a.value, None, "*") if type(a) is ast.Starred else Arg(a, None, "") for a in call.args]
    if call.keywords:
        keywords = [Arg(k.value, k.arg, "" if k.arg is not None else "**") for k in call.keywords]
        if any(a.star for a in out):
            # `f(a=1, *rest)`: a star may follow keywords; order by position.
            nodes = [*call.args, *call.keywords]
            merged = sorted(zip(nodes, [*out, *keywords]), key=lambda p: (p[0].lineno, p[0].col_offset))
            return [arg for _, arg in merged]
        out.extend(keywords)
    return out


def arg_values(call: ast.Call):
    """Every argument expression of a call (stars removed)."""
    for a in call.args:
        yield a.value if type(a) is ast.Starred else a
    for k in call.keywords:
        yield k.value


def traced(models: Models, what: str, call: ast.Call) -> tuple[str, int] | None:
    """(reason, line) for the decision trace, `what` followed by the call quoted; None in
    a normal scan (quoting costs an unparse)."""
    if models.ctx.trace is None:
        return None
    func = call.func
    name = f".{func.attr}" if isinstance(func, ast.Attribute) else call_name(func) or "call"
    try:
        text = f"{name}({', '.join(ast.unparse(a) for a in [*call.args, *call.keywords])})"
    except (ValueError, RecursionError):
        text = f"{name}(...)"
    return f"{what} `{text if len(text) <= 80 else text[:77] + '...'}`", call.lineno
