"""What both ORM analyses share: telling a tenant model from any other name."""
from __future__ import annotations

import libcst as cst

from tenantlint.names import dotted


class Models:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.catalog = ctx.catalog
        self.imports = ctx.imports
        self._cache: dict[str, str | None] = {}

    def model_of(self, node: cst.BaseExpression, framework: str | None = None) -> str | None:
        """The tenant model a Name/Attribute names (`Invoice`, `models.Invoice`), else None."""
        if not isinstance(node, (cst.Name, cst.Attribute)):
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

    def _lookup(self, node, name: str) -> str | None:
        last = name.rsplit(".", 1)[-1]
        info = self.catalog.models.get(last)
        if info is None or name.split(".")[0] in ("self", "cls"):
            return None
        qualified = self.imports.qualify(node) if self.imports else None
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


def call_name(node: cst.BaseExpression) -> str:
    """`and_` for `sa.and_(...)`, `Q` for `models.Q(...)`."""
    if isinstance(node, cst.Call):
        node = node.func
    name = dotted(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
    return name.rsplit(".", 1)[-1] if name else ""
