"""Finds the SQL in a Python file and hands each statement to `tenantlint.sql`.

Every maximal string expression is a candidate (literals, concatenations, f-strings,
`%`/`.format` templates). A variable built in pieces (`sql = ...; sql += ...`) is one
candidate, judged once by its final value at the end of its function and reported at
its first piece. A string that is only ever folded into a larger one (a module constant
used as a prefix) is judged there, not on its own. Docstrings are never SQL, and
neither are strings only searched for or compared with (`sql_fragments.py`).

A variable extended under `if`/`try`/`match`/loops is judged on each path its value
can take (`tenantlint.sql.paths`): the paths where every optional addition runs, and,
for scope, the paths where none does (a tenant predicate added on every branch of an
`if`/`else` covers them all). A string is one finding per code, naming every table.

A string constant of another module of the project (`from app.sql import BASE`, or
`sql.BASE`) is folded with the text it has there (`TenantCatalog.modules`); at its own
definition, the uses other modules make of it count as this module's would (the
discovery pass records them: `tenantlint/discover/module_names.py`)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace

from tenantlint.flow.branches import chain_of
from tenantlint.names import dotted
from tenantlint.rulebase import Checker
from tenantlint.rules.sql_constants import Constants, collect as collect_constants
from tenantlint.rules.sql_fragments import FragmentReading, ListBuild
from tenantlint.rules.sql_sites import SqlSites
from tenantlint.rules.sql_trust import ParentKeyTrust
from tenantlint.sql.paths import Build
from tenantlint.sql.recover import RecoveryLookups, HolePiece, Recovered, recover, text
from tenantlint.sql.statements import literal_screen
from tenantlint.sql.types import SqlIssue, compose, merge_issues
from tenantlint.trace import KNOWN, NOT_TENANT, SCOPED


@dataclass
class Scope:
    builds: dict[str, Build] = field(default_factory=dict)
    finished: list[Build] = field(default_factory=list)
    lists: dict[str, ListBuild] = field(default_factory=dict)


class SqlChecker(FragmentReading, Checker):
    codes = ("TL002", "TL101", "TL102", "TL103", "TL104", "TL105", "TL106", "TL107")

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """Some string literal starts (after whitespace, comments, parentheses) with a SQL
        statement keyword."""
        if literal_screen().search(source) is not None:
            return True
        index = getattr(catalog, "modules", None)  # a constant of another module completed here
        return index is not None and bool(index.constants) and index.mentions(source, "constants")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.policy = ctx.catalog.sql_policy()
        self.scopes: list[Scope] = [Scope()]
        self.root: ast.AST | None = None
        self.skip_names: set[int] = set()
        # The text parts of f-strings (and their format specs): pieces of a larger
        # string, never candidates of their own.
        self.fstring_parts: set[int] = set()
        self.blocks: list[ast.AST] = []
        self._override: tuple[str, Recovered] | None = None
        self.env = RecoveryLookups(lookup=self._lookup, qualify=self._qualify, code=ctx.code_for, imported=self._imported,
                       sequence=self._sequence, constant=self._constant)
        self.classes: list[str] = []  # the enclosing classes (`self.TABLE` is the innermost's)
        self._constants: Constants | None = None  # collected on first need
        # Strings only searched for or compared with (`s.replace(old, new)`,
        # `s.startswith(x)`, `x in s`, `s == x`, a `re` pattern): never SQL that runs.
        self.not_sql: set[int] = set()
        # Names bound to lists in some scope, and the uses of them that neither change
        # them unseen nor let them escape (`conds.append(...)`, `" AND ".join(conds)`).
        self.list_names: set[str] = set()
        self.list_ok: set[int] = set()
        self.pending: list = []  # judged strings with findings, reported by _flush
        self.shared = getattr(ctx.catalog, "modules", None)
        # Parent-key predicates scope a child table only with a trusted value (sql_trust.py).
        self.trust = ParentKeyTrust(ctx, self.policy) if getattr(self.policy, "parent_keys", None) else None
        self.sites = SqlSites(ctx) if self.trust is not None else None  # where each text runs

    # -- scopes -----------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scopes.append(Scope())
        if self.trust is not None:
            self.sites.funcs.append(node)

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._judge_scope(self.scopes.pop())
        if self.trust is not None:
            self.sites.funcs.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scopes.append(Scope())
        self.classes.append(node.name)

    def leave_ClassDef(self, node: ast.ClassDef) -> None:
        self._judge_scope(self.scopes.pop(), klass=True)
        self.classes.pop()

    def _constant(self, node: ast.expr) -> Recovered | None:
        """The text of a class or dict constant (tenantlint/rules/sql_constants.py)."""
        if self.ctx.module is None:
            return None
        if self._constants is None:
            self._constants = collect_constants(self.ctx.module, self.ctx.source)
        value = self._constants.resolve(node, self.classes[-1] if self.classes else None)
        return text(value, node) if value is not None else None

    def leave_Module(self, node: ast.Module) -> None:
        self._judge_scope(self.scopes[0], module=True)
        self._flush()

    # -- builds -----------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if self.trust is not None:
                self.sites.assign(node.targets[0].id, node.value)
            self._bind_list(node.targets[0], node.value)
            self._bind(node.targets[0], node.value, augment=False)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, ast.Name):
            self._bind_list(node.target, node.value)
            self._bind(node.target, node.value, augment=False)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name):
            if not self._grow_named(node.target, node.value, node):
                self._bind(node.target, node.value, augment=True)

    def _bind(self, target: ast.Name, value: ast.expr, augment: bool) -> None:
        if self.root is not None:
            return
        scope = self.scopes[-1]
        name = target.id
        current = scope.builds.get(name)
        if augment:
            if current is None:
                return
            addition = recover(value, self.env)
            if addition is None:
                addition = Recovered([_opaque(self.ctx.code_for(value))])
            current.extend(current.value + addition, lambda prev: prev + addition, value, self._chain(value))
            self.skip_names.add(id(target))
            self.root = value
            return
        folded_before = current.folded_uses if current is not None else 0
        recovered = recover(value, self.env)
        if recovered is None or not recovered.has_text:
            if current is not None:
                scope.finished.append(scope.builds.pop(name))
            return
        self.skip_names.add(id(target))
        self.root = value
        if current is not None and self._mentions(value, name):
            current.folded_uses = folded_before  # `sql = sql + ...` extends, it does not fold
            current.extend(recovered, lambda prev: self._recover_with(name, prev, value), value, self._chain(value))
            return
        if current is not None:
            scope.finished.append(scope.builds.pop(name))
        scope.builds[name] = Build(name, recovered, value, value, self.ctx.in_scope_provider(value),
                                   chain=self._chain(value))

    def _recover_with(self, name: str, base: Recovered, value: ast.expr) -> Recovered:
        """`value` recovered with `name` standing for `base` (one path's text)."""
        self._override = (name, base)
        try:
            return recover(value, self.env) or base
        finally:
            self._override = None

    # Conditional blocks: code in them may not run, so what they add is not on every path.
    def visit_If(self, node) -> None:
        self.blocks.append(node)
        self._truthiness(node.test)

    def leave_If(self, node) -> None:
        self.blocks.pop()

    def visit_For(self, node) -> None:
        self.blocks.append(node)
        self._read_only(node.iter)  # iterating does not change the list

    def visit_While(self, node) -> None:
        self.blocks.append(node)
        self._truthiness(node.test)

    def _enter_block(self, node) -> None:
        self.blocks.append(node)

    visit_Try = visit_TryStar = visit_Match = _enter_block
    leave_For = leave_While = leave_Try = leave_TryStar = leave_Match = leave_If

    def _chain(self, node: ast.AST) -> tuple:
        return chain_of(self.blocks, node) if self.blocks else ()

    @staticmethod
    def _mentions(value: ast.expr, name: str) -> bool:
        if type(value) is ast.Name:
            return value.id == name
        return any(type(node) is ast.Name and node.id == name for node in ast.walk(value))

    def _lookup(self, name: str) -> Recovered | None:
        if self._override is not None and self._override[0] == name:
            return self._override[1]
        for scope in (self.scopes[-1], self.scopes[0]):
            build = scope.builds.get(name)
            if build is not None:
                build.folded_uses += 1
                return build.value
        return None

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.list_names:
            self._list_use(node)
        if self.root is not None or id(node) in self.skip_names:
            return
        for scope in (self.scopes[-1], self.scopes[0]):
            build = scope.builds.get(node.id)
            if build is not None:
                build.bare_uses += 1
                build.bare_unscoped_uses += not self.ctx.in_scope_provider(node)
                if self.ctx.trace is not None:
                    self.ctx.decide(node, "sql", node.id, KNOWN, f"the SQL text built at line {build.first.lineno}, "
                                                    "judged (and reported) there", (self.ctx.path, build.first.lineno))
                return

    # -- standalone strings -----------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if self.root is None and (type(value) is ast.JoinedStr or type(value) is ast.Constant
                                  and isinstance(value.value, (str, bytes))):
            self.root = value  # a docstring or bare string statement: never SQL

    def visit_Constant(self, node: ast.Constant) -> None:
        if type(node.value) is str and id(node) not in self.fstring_parts:
            self._candidate(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        parts = self.fstring_parts
        for part in node.values:
            if type(part) is ast.Constant:
                parts.add(id(part))
        if id(node) not in parts:  # a format spec is part of its f-string
            self._candidate(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        if node.format_spec is not None:
            self.fstring_parts.add(id(node.format_spec))

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, (ast.Add, ast.Mod)):
            self._candidate(node)

    def visit_Call(self, node: ast.Call) -> None:
        if self.trust is not None:
            self.sites.call(node)
        self._list_call(node)
        self._searched(node)
        # `.format`, `.join`, `dedent(...)`, psycopg `sql.SQL(...)`: recover() knows which.
        self._candidate(node)

    def leave_Call(self, node: ast.Call) -> None:
        self._release(node)

    def leave_Constant(self, node: ast.Constant) -> None:
        self.fstring_parts.discard(id(node))
        self._release(node)

    def leave_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.fstring_parts.discard(id(node))
        self._release(node)

    def leave_BinOp(self, node: ast.BinOp) -> None:
        self._release(node)

    def leave_Name(self, node: ast.Name) -> None:
        self._release(node)

    def leave_Assign(self, node) -> None:
        # A bound value of any kind (`q += obj.sql`) was the root: release it with its
        # statement, or the rest of the file would never be read.
        self._release(node.value)

    leave_AnnAssign = leave_AugAssign = leave_Assign

    def _release(self, node) -> None:
        if self.root is node:
            self.root = None

    def _candidate(self, node: ast.expr) -> None:
        if self.root is not None:
            return
        if id(node) in self.not_sql:
            self.root = node  # nor is any piece of it
            return
        recovered = recover(node, self.env)
        if recovered is None or not recovered.has_text:
            return
        self.root = node
        sites = (lambda: self.sites.string_sites(node)) if self.trust is not None else None
        self._judge(recovered, node, node, scoped=self.ctx.in_scope_provider(node), sites=sites)

    # -- judging ----------------------------------------------------------------
    def _judge_scope(self, scope: Scope, module: bool = False, klass: bool = False) -> None:
        builds = [*scope.finished, *scope.builds.values()]
        for build in builds:
            folded, bare, unscoped = build.folded_uses, build.bare_uses, build.bare_unscoped_uses
            shared = self._shared(build) if module and scope.builds.get(build.name) is build else None
            if shared is not None:  # the uses other modules make of this constant
                folded += shared.folded
                bare += shared.bare
                unscoped += shared.bare_unscoped
            if folded and not bare:
                continue  # judged inside the larger strings it was folded into
            scoped = build.in_provider or (bare > 0 and unscoped == 0)
            values, bases = build.paths()
            sites = None
            if self.trust is not None:
                func, elsewhere = self.sites.func, bool(shared and shared.bare)
                # the calls given this name between this build and the next of the same name
                later = [b.first.lineno for b in builds if b.name == build.name and b.first.lineno > build.first.lineno]
                anywhere = module or klass  # a module or class constant runs in any function (`self.SQL`)
                lines = (build.first.lineno, min(later, default=None)) if not anywhere else (0, None)
                sites = (lambda b=build, f=func, w=lines, a=anywhere: self.sites.name_sites(b.name, f, a, w)), elsewhere
            self._judge(build.value, build.first, build.last, scoped=scoped, values=values, bases=bases, sites=sites)

    def _shared(self, build: Build):
        """This module's constant as other modules use it (None: they do not)."""
        if self.shared is None or not self.shared.constants or not self.ctx.module_name:
            return None
        found = self.shared.constants.get(f"{self.ctx.module_name}.{build.name}")
        return found if found is not None and found.line == build.first.lineno else None

    def _judge(self, recovered: Recovered, first: ast.expr, last: ast.expr, *, scoped: bool,
               values: list[Recovered] | None = None, bases: list[Recovered] = (), sites=None) -> None:
        """Judge a string by the value of each path in `values` (default: `recovered`)
        and, for scope, the value of each base path (where no conditional addition to it
        ran). Reported at the end of the module (`_flush`). `sites`: where the text is run
        (sql_trust.py), or (that, run by other modules too); when it binds parent-key
        parameters, their values are judged at the end of the module, when every call
        that runs it has been seen."""
        from tenantlint.sql import analyze_sql

        paths = values or [recovered]
        values = [v.to_sql() for v in paths]
        bases = [b.to_sql() for b in bases]
        params: list[set] | None = [set() for _ in values] if sites is not None and not scoped else None
        found: list = []
        notes = [] if self.ctx.trace is not None else None
        for k, value in enumerate(values):
            found += analyze_sql(value, self.policy, scoped=scoped, notes=notes,
                                 parent_params=params[k] if params else None) or ()
        if params is not None and any(params):
            retrust = self._retrust(values, bases, params, first, last, sites)
            self.pending.append((len(self.pending), recovered, first, last, [recovered, *paths], None, retrust))
            return
        if notes:
            self._trace(notes, first, last, scoped)
        unscoped = self._unscoped(bases, {i.code for i in found}, scoped)
        if found or unscoped:
            self.pending.append((len(self.pending), recovered, first, last, [recovered, *paths], found, unscoped))

    def _unscoped(self, bases, codes, scoped: bool, untrusted=None) -> list:
        """The scope findings of the base paths that the full paths do not have."""
        from tenantlint.sql import analyze_sql

        unscoped: list = []
        for base in bases:
            unscoped += [i for i in analyze_sql(base, self.policy, scoped=scoped, untrusted=untrusted) or ()
                         if i.code in _SCOPE_CODES and i.code not in codes]
        return unscoped

    def _retrust(self, values, bases, params, first, last, sites):
        """The findings of a text whose parent-key predicates anchor only with trusted
        values, judged again with the untrusted ones refused (when `_flush` runs)."""
        func = self.sites.func

        def again():
            from tenantlint.sql import analyze_sql

            where, elsewhere = sites if isinstance(sites, tuple) else (sites, False)
            run = where()
            found: list = []
            notes = [] if self.ctx.trace is not None else None
            refused: dict = {}
            for value, keys in zip(values, params):
                names = {h.marker.lower(): h.name for h in value.holes}

                def holes(key, names=names):
                    return self.sites.hole_values(names.get(key), (first, last), func)
                untrusted = self.trust.untrusted(keys, run, holes, elsewhere) if keys else {}
                refused.update(untrusted)
                found += analyze_sql(value, self.policy, notes=notes, untrusted=untrusted) or ()
            if notes:
                self._trace(notes, first, last, False)
            return found, self._unscoped(bases, {i.code for i in found}, False, refused)
        return again


    def _trace(self, notes: list, first: ast.expr, last: ast.expr, scoped: bool) -> None:
        span = (self.ctx.positions[first].start.line, self.ctx.positions[last].end.line)
        read = getattr(self.ctx.catalog, "settings_read", {})
        for subject, verdict, reason in notes:
            if scoped and verdict != NOT_TENANT and not subject.startswith("SET "):
                verdict, reason = SCOPED, "inside a scope provider (scope-providers)"
            where = read.get(subject[4:]) if subject.startswith("SET ") else None
            evidence = (where.path, where.line) if where else None
            defined = self.ctx.catalog.definitions.get(subject) if verdict == NOT_TENANT else None
            if defined and reason.startswith("not a tenant"):  # "why didn't it flag X?": X has no tenant column
                cols = "/".join(sorted(self.ctx.catalog.tenant_columns))
                reason, evidence = f"defined without a `{cols}` column", (defined[0].path, defined[0].line)
            self.ctx.decide(span, "sql", subject, verdict, reason, evidence)

    def _flush(self) -> None:
        """Report the judged strings in reading order: one finding per code, naming every
        table, at the string's first piece. A name interpolated into an identifier is
        reported where it was first interpolated, not again in each string the result is
        folded into (`q = "DELETE FROM %s" % t` then `f"{q} WHERE ..."`)."""
        reported: set[int] = set()  # the holes already reported as TL106
        pending = sorted(self.pending, key=lambda e: (e[2].lineno, e[2].col_offset, e[0]))
        self.pending = []
        for _, recovered, first, last, values, found, unscoped in pending:
            if found is None:  # parent-key parameters: judged now that every call is seen
                found, unscoped = unscoped()
                if not found and not unscoped:
                    continue
            holes: dict[str, set[int]] = {}
            for value in values:
                for piece in value.pieces:
                    if isinstance(piece, HolePiece):
                        holes.setdefault(piece.name, set()).add(id(piece))
            issues = []
            for issue in merge_issues(found):
                if issue.code == "TL106" and issue.parts:
                    parts = tuple(p for p in issue.parts if not (holes.get(p.subject) and holes[p.subject] <= reported))
                    for part in parts:
                        reported |= holes.get(part.subject, set())
                    if not parts:
                        continue
                    if parts != issue.parts:
                        issue = SqlIssue(issue.code, compose(parts), issue.table, parts)
                issues.append(issue)
            issues += [replace(i, message=i.message + _SOME_PATHS) for i in merge_issues(unscoped)]
            start = self.ctx.positions[first].start
            end = self.ctx.positions[last].end
            snippet = recovered.to_sql().text
            for issue in issues:
                self.ctx.report(issue.code, issue.message, start.line, start.column + 1, end.line, end.column + 1,
                                snippet=snippet)

    # -- names ------------------------------------------------------------------
    def _qualify(self, node: ast.expr) -> str | None:
        return self.ctx.imports.qualify(node) if self.ctx.imports else None

    def _imported(self, node: ast.expr) -> Recovered | None:
        """The text of a string constant imported from another module of the project."""
        shared = self.imported_constant(node)
        return Recovered(list(shared.pieces)) if shared is not None else None

    def imported_constant(self, node: ast.expr):
        """The catalog's SharedConstant a name or attribute imported from another module
        stands for (`BASE` after `from app.sql import BASE`, `sql.BASE`), else None."""
        index = self.shared
        if index is None or not index.constants or self.ctx.imports is None:
            return None
        head = (dotted(node) or "").partition(".")[0]
        if head not in self.ctx.imports.aliases or head in self.ctx.imports.local_defs:
            return None  # this module's own names are its builds
        return index.constant(self.ctx.imports.qualify(node))


_SCOPE_CODES = ("TL101", "TL102", "TL104")
_SOME_PATHS = " on the path where the conditional additions to it do not run"


def _opaque(code: str):
    return HolePiece("concat", code)
