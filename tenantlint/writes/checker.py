"""The writes checker: each function body (and the module body) is read once for rows
written without their tenant (TL203, `rows.py`) and tenant values taken from the
request (TL601, `request_values.py`)."""
from __future__ import annotations

import ast
import re

from tenantlint.orm.common import Models
from tenantlint.request_packs import request_knowledge
from tenantlint.rulebase import Checker
from tenantlint.writes.body import Body
from tenantlint.writes.documents import INSERTS, DocumentWrites
from tenantlint.writes.request_values import RequestValues
from tenantlint.writes.rows import Rows
from tenantlint.words import words_of

DOCUMENT_INSERTS = frozenset(INSERTS)


class WritesChecker(Checker):
    codes = ("TL203", "TL601")

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """A tenant model named (TL203), or request input and a tenant name (TL601)."""
        words = words_of(source)
        collections = catalog.tables or catalog.collections
        return not words.isdisjoint(catalog.models) or bool(collections and words & DOCUMENT_INSERTS) or \
            bool(words & request_knowledge().words) and not words.isdisjoint(_tenant_words(catalog, settings))

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.active = ctx.module is not None
        if self.active:
            catalog, settings = ctx.catalog, ctx.settings
            words = words_of(ctx.source)
            self.rows_wanted = bool(catalog.models) and not words.isdisjoint(catalog.models)
            self.documents_wanted = bool(catalog.tables or catalog.collections) and \
                bool(words & DOCUMENT_INSERTS)
            self.requests_wanted = bool(words & request_knowledge().words) and \
                not words.isdisjoint(_tenant_words(catalog, settings))
            self.models = Models(ctx)
            self.relations = frozenset(r for info in catalog.models.values() for r in info.tenant_relations)

    def get_visitors(self) -> dict:
        wanted = self.active and (self.rows_wanted or self.requests_wanted or self.documents_wanted)
        return super().get_visitors() if wanted else {}

    # The bodies being read, innermost last: the batched walk hands each node to the
    # function (or module) it belongs to; a class body's own statements are not judged.
    def visit_Module(self, node: ast.Module) -> None:
        self.bodies = [Body(node)]

    def leave_Module(self, node: ast.Module) -> None:
        self._check(self.bodies.pop(), None)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # async defs too
        self.bodies.append(Body(node))

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(self.bodies.pop(), node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bodies.append(Body(node))

    def leave_ClassDef(self, node: ast.ClassDef) -> None:
        self.bodies.pop()

    def _add(self, node: ast.AST) -> None:
        self.bodies[-1].add(node)

    visit_Call = visit_Assign = visit_AnnAssign = visit_AugAssign = visit_Compare = visit_For = visit_If = \
        visit_Expr = _add

    def _check(self, body: Body, func: ast.AST | None) -> None:
        if self.rows_wanted:
            for write in Rows(self.models, body).writes():
                info = self.ctx.catalog.models.get(write.model)
                names = "/".join(sorted(info.tenant_relations | info.tenant_columns)) if info else "tenant"
                self.report("TL203", write.node,
                            f"a `{write.model}` row is written without its tenant (`{names}`)")
        if self.documents_wanted:
            for write in DocumentWrites(self.ctx.catalog, body, self.ctx.imports).writes():
                table = self.ctx.catalog.tables.get(write.model.lower())
                columns = "/".join(sorted(table.tenant_columns if table else self.ctx.catalog.tenant_columns))
                self.report("TL203", write.node, f"a document is inserted into the tenant collection "
                                                 f"`{write.model}` without its tenant field (`{columns}`)")
        if self.requests_wanted:
            values = self.ctx.tenant_sources.function(func)
            checker = RequestValues(self.models, body, values, self.ctx.settings.tenant_columns, self.relations,
                                    self.ctx.settings.dialect, self.ctx.code_for)
            for found in checker.findings():
                source = f"`{self.ctx.code_for(found.source)}`" if self.ctx.code_for(found.source) else "the request"
                if isinstance(found.source, ast.Name) and found.source.id in values.inputs:
                    source += ", a parameter the framework reads from the request"
                self.report("TL601", found.node,
                            f"the tenant value for `{found.field}` comes from request input ({source}): "
                            "the client chooses the tenant")


def _tenant_words(catalog, settings) -> frozenset[str]:
    """The words a tenant lookup, key or column is spelled with: tenant columns, their
    relation names (`store` for `store_id`) and the models' tenant relations."""
    columns = {c.lower() for c in settings.tenant_columns}
    stems = {c[:-3] for c in columns if c.endswith("_id") and len(c) > 3}
    relations = {r for info in catalog.models.values() for r in info.tenant_relations}
    return frozenset(columns | stems | relations)

