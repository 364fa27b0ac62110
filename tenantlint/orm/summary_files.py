"""The files the summary pass works on, parsed only when one of their functions must be
followed. What a file defines (functions, classes, calls) comes from its catalog facts
(tenantlint.callgraph.ModuleFunctions); its syntax tree, context and ORM checker are
built on first use, in the state the summary pass would have left them in had the file
been parsed when it was screened in (see `SummaryFile.open`)."""
from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

from tenantlint.callgraph import FunctionFact, ModuleFunctions
from tenantlint.context import FileContext
from tenantlint.files import module_name
from tenantlint.grammar import parse as parse_module
from tenantlint.orm.calls import CallJudge
from tenantlint.orm.checker import OrmChecker
from tenantlint.orm.pyast import top_classes
from tenantlint.source import read_source

_WORD_BYTES = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


class SummaryFile:
    """One screened-in file. `words`: the catalog's function words when it was screened in
    (its checker's screen, as then)."""

    def __init__(self, path: Path, rel: str, facts: ModuleFunctions, words: frozenset[str]) -> None:
        self.path, self.rel, self.facts, self.words = path, rel, facts, words
        self.tree: ast.Module | None = None
        self.ctx: FileContext | None = None
        self.checker: OrmChecker | None = None
        self.nodes: dict[str, ast.AST] = {}
        self._lines: list[bytes] | None = None
        self._words: dict[str, frozenset[bytes]] = {}  # function -> the words of its lines
        self.names: tuple = (None, frozenset())  # (helper names, what the checker's screen may hold then)
        self.version = -1  # the summary pass's index this file's checker was last set up with
        self.broken = False  # changed since its facts were taken: nothing of it is followed

    @property
    def module(self) -> str:
        return self.facts.module

    def class_names(self) -> list[str]:
        return [qual for qual, _ in self.facts.classes]

    def open(self, catalog, settings, index, call_words: frozenset[str], version: int) -> bool:
        """Parse it and set its checker up for the current round: the index as it now is,
        the helpers found so far among the names it follows. False: it cannot be read as
        its facts say (changed meanwhile)."""
        if self.checker is not None or self.broken:
            return not self.broken
        source = read_source(self.path, settings.max_file_size)
        tree = None
        if source.text is not None:
            try:
                tree = parse_module(source.text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
        if tree is None:
            self.broken = True
            return False
        saved = catalog.functions
        catalog.functions = replace(index, words=self.words)
        try:
            ctx = FileContext(path=self.rel, source=source.text, settings=settings, catalog=catalog, module=tree,
                              module_name=module_name(self.rel))
            ctx.summarizing = True  # a summary depends on its own file: no caller trust (handed_values.py)
            checker = OrmChecker(ctx)
        finally:
            catalog.functions = saved
        nodes = _definitions(tree, ctx.module_name)
        if not checker.active or set(nodes) != {f.name for f in self.facts.functions}:
            self.broken = True
            return False
        self.tree, self.ctx, self.checker, self.nodes = tree, ctx, checker, nodes
        self.refresh(index, call_words, version)
        return True

    def refresh(self, index, call_words: frozenset[str], version: int) -> None:
        """The summary pass's current index and helper names, in the checker (done when
        one of its functions is next followed: until then nothing reads them)."""
        if version == self.version:
            return
        self.version = version
        checker = self.checker
        checker.functions = index
        checker.call_judge = CallJudge(checker)
        if not call_words <= checker.names:
            checker.names = checker.names | call_words
            checker._names_bytes = frozenset(n.encode() for n in checker.names)
        checker._owners.clear()
        checker._methods.clear()
        for cls in top_classes(self.tree):
            checker.visit_ClassDef(cls)
        checker.observed = {}

    def may_mention(self, fact: FunctionFact, names: frozenset[bytes], data: bytes) -> bool:
        """Can the function's text name one of `names`? (Its lines, a superset of its
        text: the checker's own test, on the parsed function, decides.)"""
        words = self._words.get(fact.name)
        if words is None:
            if self._lines is None:
                self._lines = data.splitlines()
            words = frozenset(_WORD_BYTES.findall(b"\n".join(self._lines[fact.line - 1:fact.end_line or None])))
            self._words[fact.name] = words
        return not words.isdisjoint(names)


def _definitions(tree: ast.Module, module: str) -> dict[str, ast.AST]:
    """qualified name -> node of the module-level functions and methods of module-level
    classes (the later of two definitions of a name)."""
    out: dict[str, ast.AST] = {}
    defs = (ast.FunctionDef, ast.AsyncFunctionDef)
    if module:
        for stmt in tree.body:
            if isinstance(stmt, defs):
                out[f"{module}.{stmt.name}"] = stmt
    for cls in top_classes(tree):
        qual = f"{module}.{cls.name}" if module else cls.name
        for stmt in cls.body:
            if isinstance(stmt, defs):
                out[f"{qual}.{stmt.name}"] = stmt
    return out
