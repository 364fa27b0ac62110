"""What a rule is (identity and docs) and what a checker is (the code that finds it).

A Rule is a small class whose docstring is its documentation, in ruff's shape
(`## What it does`, `## Why is this bad?`, `## Example`, `## Use instead`); `tenantlint
explain` prints it and a test runs its examples. A Checker is a batched visitor over the
stdlib `ast` tree for one family of rules: all checkers of a file run in one traversal
of one parse (`tenantlint/visit.py`).

It lives outside the `rules` package so that checker modules (`orm/`, `stores/`) can
import it without importing the registry that imports them.
"""
from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, ClassVar

import ast

from tenantlint.diagnostics import Severity

if TYPE_CHECKING:
    from tenantlint.catalog import TenantCatalog
    from tenantlint.config import Settings
    from tenantlint.context import FileContext


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    # How often a finding is a true positive (SARIF `precision`: very-high/high/medium/low).
    precision: ClassVar[str] = "high"
    # The weaknesses a finding is an instance of; every rule here guards tenant isolation.
    cwe: ClassVar[tuple[str, ...]] = ("CWE-639",)
    tags: ClassVar[tuple[str, ...]] = ("security",)
    # GitHub's score ("0.0"-"10.0" as text); None: derived from `severity`.
    security_severity: ClassVar[str | None] = None
    # The docs example runs with this config (TOML keys) beside it; default: see docs_config.
    example_config: ClassVar[dict] = {}

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def example(cls, section: str) -> str:
        """The first code block under `## <section>` of the docs ('' if none)."""
        match = re.search(
            rf"^## {re.escape(section)}\s*\n.*?```(\w*)\n(.*?)```", cls.docs(), re.S | re.M
        )
        return match.group(2) if match else ""


class Checker:
    """One family's visitor: `visit_<NodeType>` / `leave_<NodeType>` methods (stdlib
    `ast` type names; async defs, fors and withs reach the plain hooks). Subclasses name
    the codes they may emit in `codes`."""

    codes: ClassVar[tuple[str, ...]] = ()
    _hook_names: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx

    def get_visitors(self) -> dict:
        """Hook name -> bound method, for the batched walk."""
        cls = type(self)
        if cls.__dict__.get("_hook_names") is None:
            cls._hook_names = tuple(n for n in dir(cls) if n.startswith(("visit_", "leave_")))
        return {name: getattr(self, name) for name in cls._hook_names}

    @classmethod
    def wants(cls, source: str, catalog: "TenantCatalog", settings: "Settings") -> bool:
        """The screen: can this file produce a finding of this family at all? A cheap
        text test, run before the file is parsed. Return False only when the checker,
        run on this file, would report nothing: a file no checker wants is only
        parsed, for TL001, never walked. Default: every file."""
        return True

    def report(self, code: str, node: ast.AST, message: str, *, end_node: ast.AST | None = None,
               snippet: str | None = None) -> None:
        start = self.ctx.positions[node].start
        end = self.ctx.positions[end_node or node].end
        self.ctx.report(code, message, start.line, start.column + 1, end.line, end.column + 1,
                        snippet=snippet if snippet is not None else self.ctx.code_for(node))

    def finish(self) -> None:
        """Called once after the traversal, for checkers that judge at the end."""
