"""The ORM checker: screen the file, follow queries through each function (and module
and class bodies), judge what was observed, report at the expression that created it."""
from __future__ import annotations

import ast
import re

from tenantlint.orm.common import Models, call_name
from tenantlint.orm.django import Django
from tenantlint.orm.flow import Flow
from tenantlint.orm.sqlalchemy import SqlAlchemy
from tenantlint.orm.state import judge
from tenantlint.rulebase import Checker

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_BYTES = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")  # the same words, in UTF-8 text
_NEWLINE_BYTES = re.compile(rb"\r\n?|\n")
ESCAPES = ("scopes_disabled",)
SHORTCUT_WORDS = frozenset({"get_object_or_404", "get_list_or_404", "aget_object_or_404", "aget_list_or_404"})


class OrmChecker(Checker):
    codes = ("TL201", "TL202", "TL002")

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """The `active` test, before the parse: no tenant model named, nothing to judge."""
        return bool(catalog.models) and not set(catalog.models).isdisjoint(_WORD.findall(source))

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        catalog = ctx.catalog
        self.active = bool(catalog.models) and ctx.module is not None and \
            not set(catalog.models).isdisjoint(_WORD.findall(ctx.source))
        self.observed: dict[int, tuple] = {}
        if self.active:
            models = Models(ctx)
            self.frameworks = (Django(models), SqlAlchemy(models))
            self.always = frozenset(n for n, o in catalog.orm.items() if o.always_scoped)
            self.names = frozenset(catalog.models) | SHORTCUT_WORDS
            self._names_bytes = frozenset(n.encode() for n in self.names)
            # ast columns are UTF-8 byte offsets: statement text is a slice of the encoded file.
            self._data = ctx.source.encode("utf-8", "surrogatepass")
            self._starts = ctx.lines.starts if len(self._data) == len(ctx.source) else \
                [0] + [m.end() for m in _NEWLINE_BYTES.finditer(self._data)]
            self._permissions = "check_object_permissions(" in ctx.source

    def get_visitors(self) -> dict:
        return super().get_visitors() if self.active else {}

    def _flow(self) -> Flow:
        flow = Flow(self.frameworks, self._observe, self._is_escape)
        flow.relevant = self._relevant
        return flow

    def _inline(self, first) -> bool:
        """Does a body start on its header's line (`if x: return qs`)?"""
        start = self._starts[first.lineno - 1]
        return first.col_offset > 0 and not self._data[start:start + first.col_offset].isspace()

    def _relevant(self, stmt, env) -> bool:
        """Does the statement's text name a tenant model, a shortcut or a variable of `env`?"""
        starts = self._starts
        words = set(_WORD_BYTES.findall(self._data[starts[stmt.lineno - 1] + stmt.col_offset:
                                                   starts[stmt.end_lineno - 1] + stmt.end_col_offset]))
        return not words.isdisjoint(self._names_bytes) or any(name.encode() in words for name in env)

    def _observe(self, states) -> None:
        for state in states:
            entry = self.observed.setdefault(id(state.root), (state.root, set()))
            entry[1].add(state)

    def _is_escape(self, call: ast.Call) -> bool:
        return call_name(call.func) in ESCAPES

    def visit_Module(self, node: ast.Module) -> None:
        if self.active:
            self._flow().run(node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # async defs too
        if not self.active:
            return
        escaped = any(call_name(d) in ESCAPES for d in node.decorator_list)
        flow = self._flow()
        flow.authorized = self._permissions and "check_object_permissions(" in self.ctx.code_for(node)
        flow.run(node.body, escaped=escaped)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not self.active or self._inline(node.body[0]):
            return  # `class A(B): x = ...`: a body on the header's line is left alone
        # A view's class-level `queryset` is not what runs when the class overrides get_queryset().
        overrides = any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "get_queryset"
                        for s in node.body)
        self._flow().run(node.body, observe_end=not overrides)

    def finish(self) -> None:
        for root, states in sorted(self.observed.values(), key=lambda e: _pos(self, e[0].node)):
            verdict = judge(states, self.always)
            if verdict is None or self.ctx.in_scope_provider(root.node):
                continue
            pos = self.ctx.positions.get(root.node)
            if pos is not None:
                self.ctx.report(verdict.code, self._message(verdict.code, verdict.models), pos.start.line,
                                pos.start.column + 1, pos.end.line, pos.end.column + 1,
                                snippet=self.ctx.code_for(root.node))

    def _message(self, code: str, models: list[str]) -> str:
        parts = []
        for name in models:
            info = self.ctx.catalog.models.get(name)
            cols = "/".join(sorted(info.tenant_columns)) if info else "tenant"
            table = f" ({info.table})" if info and info.table else ""
            parts.append((f"`{name}`{table}", cols))
        what = ", ".join(p[0] for p in parts)
        cols = " or ".join(sorted({p[1] for p in parts}))
        if code == "TL202":
            return f"bulk update/delete on {what} without a tenant filter on `{cols}`"
        if code == "TL002":
            return f"{what} is filtered by a condition built elsewhere: its `{cols}` scope cannot be verified"
        return f"{what} is queried without a tenant filter on `{cols}`"


def _pos(checker: OrmChecker, node) -> tuple[int, int]:
    pos = checker.ctx.positions.get(node)
    return (pos.start.line, pos.start.column) if pos else (0, 0)
