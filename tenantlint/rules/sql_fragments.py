"""The SQL checker's reading of two kinds of text that are not candidates themselves.

Lists of fragments: a name bound to a list (or tuple) literal and then only grown by
`.append(x)`, `.extend([...])` or `+= [...]` in the same scope: `sep.join(name)` is
known text, an item added on some paths only a hole (it may be there or not). Any
other use of the name (passed to a function, aliased, indexed, rebound, used from a
nested function) makes the list unknown, as it was before: `sep.join(name)` is then one
hole.

Strings only searched for or compared with: the arguments of `s.replace(old, new)`,
`s.startswith(x)` and the like, a `re` pattern, an operand of `in` / `==`: not SQL
that runs (the receiver `s` still may be)."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from tenantlint.flow import extension
from tenantlint.flow.branches import loops_around, relative
from tenantlint.sql.recover import Recovered, hole, recover


@dataclass
class ListBuild:
    """A name bound to a list (or tuple) literal, then only grown by `.append(x)`,
    `.extend([...])` or `+= [...]`: what `sep.join(name)` gives is known."""

    chain: tuple
    items: list  # (Recovered, added on some paths only, source code)
    escaped: bool = False


class FragmentReading:
    """Mixed into SqlChecker: needs `scopes` (with `.lists`), `env`, `ctx`, `_chain`,
    `_qualify`, `list_names`, `list_ok` and `not_sql`."""

    def _read_only(self, node: ast.expr) -> None:
        if type(node) is ast.Name and node.id in self.list_names:
            self.list_ok.add(id(node))

    def _truthiness(self, test: ast.expr) -> None:
        """`if conds:`, `if not conds`, `if a and conds`: reading a list's truth."""
        if type(test) is ast.Name:
            self._read_only(test)
        elif type(test) is ast.UnaryOp and type(test.op) is ast.Not:
            self._truthiness(test.operand)
        elif type(test) is ast.BoolOp:
            for value in test.values:
                self._truthiness(value)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._truthiness(node.test)

    def _bind_list(self, target: ast.Name, value: ast.expr) -> None:
        scope = self.scopes[-1]
        name = target.id
        if type(value) in (ast.List, ast.Tuple):
            listed = ListBuild(self._chain(value), [])
            scope.lists[name] = listed
            self.list_names.add(name)
            self.list_ok.add(id(target))
            self._grow_list(listed, value, None)
        elif name in scope.lists:
            del scope.lists[name]
            self.list_ok.add(id(target))

    def _grow_list(self, listed: ListBuild, items: ast.expr, node: ast.AST | None) -> None:
        """Add `items` (a list/tuple literal) to the list; anything else makes it unknown."""
        if type(items) not in (ast.List, ast.Tuple):
            listed.escaped = True
            return
        conditional = node is not None and relative(self._chain(node), listed.chain) is not None
        for item in items.elts:
            if type(item) is ast.Starred:
                found = None
            else:
                found = recover(item, self.env)
            if found is None:  # not known text: what it holds is a hole, as in an f-string
                found = hole("concat", self.ctx.code_for(item))
            listed.items.append((found, conditional, self.ctx.code_for(item)))

    def _grow_named(self, target: ast.Name, items: ast.expr, node: ast.AST) -> bool:
        """`name += items` (or `.append`/`.extend`) on a list of this scope: grown."""
        listed = self.scopes[-1].lists.get(target.id)
        if listed is None:
            return False
        self.list_ok.add(id(target))
        self._grow_list(listed, items, node)
        return True

    def _list_call(self, node: ast.Call) -> None:
        """`conds.append(x)`, `conds.extend([...])`, `len(conds)`, `sep.join(conds)`."""
        func = node.func
        if type(func) is ast.Attribute:
            grown = extension(node)  # `.append(x)` as `+= [x]`, `.extend(xs)` as `+= xs`
            if grown is not None and type(grown[0]) is ast.Name and grown[0].id in self.list_names:
                self._grow_named(grown[0], grown[2], node)
            if func.attr == "join" and len(node.args) == 1:
                self._read_only(node.args[0])
        elif type(func) is ast.Name and func.id == "len" and len(node.args) == 1:
            self._read_only(node.args[0])

    def _list_use(self, node: ast.Name) -> None:
        """A use of a list name that is not one of the known ones: the list may change
        in ways not seen here (passed to a function, aliased, indexed, rebound)."""
        ok = id(node) in self.list_ok
        self.list_ok.discard(id(node))
        if ok and node.id in self.scopes[-1].lists:
            return
        for scope in self.scopes:  # this scope's list, or one of an enclosing scope (a closure)
            listed = scope.lists.get(node.id)
            if listed is not None:
                listed.escaped = True

    def _sequence(self, node: ast.expr) -> list[Recovered] | None:
        """The items `sep.join(node)` joins, when `node` names a list of this scope whose
        items are known: an item added on some paths only is a hole (it may be there or
        not). None when the list may have changed unseen, when the join may run again
        after later additions (a loop around it that is not around the list), or when
        its items are whole statements (judged on their own)."""
        if type(node) is not ast.Name:
            return None
        listed = self.scopes[-1].lists.get(node.id)
        if listed is None or listed.escaped or any(
                _changed_in(loop, node) for loop in loops_around(self._chain(node), listed.chain)):
            return None
        from tenantlint.sql.statements import looks_like_sql

        out = []
        for found, conditional, code in listed.items:
            first = found.pieces[0] if found.pieces else ""
            if isinstance(first, str) and looks_like_sql(first):
                return None
            out.append(hole("concat", code) if conditional else found)
        return out

    # -- strings searched for ---------------------------------------------------
    def _searched(self, node: ast.Call) -> None:
        """The arguments of `s.replace(old, new)`, `s.startswith(x)`... and a `re`
        pattern are text searched for, not SQL that runs (the receiver still may be)."""
        func = node.func
        if type(func) is ast.Attribute and func.attr in _SEARCH_METHODS:
            self._not_sql(list(node.args) + [k.value for k in node.keywords])
        elif type(func) in (ast.Attribute, ast.Name):
            module, _, function = (self._qualify(func) or "").rpartition(".")
            if function in _RE_FUNCTIONS and module in ("re", "regex"):
                self._not_sql(node.args[:1] or [k.value for k in node.keywords if k.arg == "pattern"])

    def _not_sql(self, nodes) -> None:
        """Mark string expressions (not calls that may run SQL themselves)."""
        for arg in nodes:
            for item in arg.elts if type(arg) in (ast.Tuple, ast.List, ast.Set) else (arg,):
                kind = type(item)
                if kind in (ast.Constant, ast.JoinedStr, ast.BinOp) or (
                        kind is ast.Call and type(item.func) is ast.Attribute and item.func.attr == "format"
                        and type(item.func.value) in (ast.Constant, ast.JoinedStr)):
                    self.not_sql.add(id(item))

    def visit_Compare(self, node: ast.Compare) -> None:
        # `"CREATE INDEX" in ddl`, `sql == "SELECT 1"`: compared, not run.
        self._not_sql([node.left, *node.comparators])


_SEARCH_METHODS = frozenset({
    "replace", "startswith", "endswith", "removeprefix", "removesuffix", "find", "rfind", "index", "rindex",
    "count", "split", "rsplit", "partition", "rpartition",
})
_RE_FUNCTIONS = frozenset({"sub", "subn", "match", "fullmatch", "search", "findall", "finditer", "split", "compile"})


def _changed_in(loop: ast.AST, joined: ast.Name) -> bool:
    """The list `joined` names is used in `loop` otherwise than joined: it may grow after
    the join, and the next turn joins more."""
    nodes = list(ast.walk(loop))
    reads = {id(node.args[0]) for node in nodes
             if type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "join"
             and len(node.args) == 1 and type(node.args[0]) is ast.Name}
    return any(type(node) is ast.Name and node.id == joined.id and id(node) not in reads for node in nodes)
