"""Where a SQL text runs, for the parent-key trust checks (sql_trust.py).

Recorded during the SQL checker's walk, read at the end of the module: each call and the
position of each argument (the parameters follow the text: `cur.execute(sql, params)`,
`conn.fetch(sql, a, b)`, a project wrapper's `run(conn, sql, params)`), names handed to
calls (`cur.execute(sql, ...)`, a class constant as `self.SQL`), `.bindparams(...)` on
`text(...)`, and the names values are assigned to (`stmt = text(...)`). A text runs
where it is an argument, or where the name it was assigned to is, through `text()` /
`sql.SQL()`, which bind nothing themselves."""
from __future__ import annotations

import ast

from tenantlint.names import dotted

TEXT_WRAPPERS = frozenset({"text", "SQL"})  # sqlalchemy.text(...), psycopg sql.SQL(...)


class SqlSites:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.funcs: list = [None]  # the enclosing functions, innermost last
        # id(argument) -> (call, function, its position)
        self.arg_of: dict[int, tuple[ast.Call, object, int]] = {}
        self.bindparams_of: dict[int, ast.Call] = {}  # id(receiver) -> its `.bindparams(...)` call
        self.name_binders: dict[str, list[tuple[ast.Call, object, int]]] = {}  # name -> calls taking it
        self.assigned_name: dict[int, str] = {}  # id(value) -> the name it is assigned to

    # -- what the walk records -------------------------------------------------------
    @property
    def func(self):
        return self.funcs[-1]

    def call(self, call: ast.Call) -> None:
        if isinstance(call.func, ast.Attribute) and call.func.attr == "bindparams":
            self.bindparams_of[id(call.func.value)] = call
        for k, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                break  # the positions after it are unknown
            entry = (call, self.func, k)
            self.arg_of[id(arg)] = entry
            if isinstance(arg, ast.Name):
                self.name_binders.setdefault(arg.id, []).append(entry)
            elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and \
                    arg.value.id in ("self", "cls"):  # a class constant: `cur.execute(self.SQL, ...)`
                self.name_binders.setdefault(arg.attr, []).append(entry)

    def assign(self, name: str, value: ast.expr) -> None:
        self.assigned_name[id(value)] = name

    # -- where a text runs --------------------------------------------------------------
    def string_sites(self, node: ast.expr) -> list:
        entry = self.arg_of.get(id(node))
        return self._through_wrappers([entry] if entry else [])

    def name_sites(self, name: str, func, module: bool, lines=(0, None)) -> list:
        """The calls that run the text a name holds: in its function, on the lines from its
        assignment to the next text assigned to that name (`lines`), or (`module`) in any
        function of the module."""
        start, until = lines
        return self._through_wrappers([(c, f, k) for c, f, k in self.name_binders.get(name, ())
                                       if (module or f is func and c.lineno >= start) and
                                       (until is None or c.lineno < until)])

    def _through_wrappers(self, entries: list) -> list:
        """`text(sql)` binds nothing itself: its `.bindparams(...)`, the call it is handed
        to, or the calls given the name it is assigned to do."""
        out, todo, seen = [], list(entries), set()
        while todo:
            call, func, k = todo.pop()
            if (id(call), k) in seen:
                continue
            seen.add((id(call), k))
            if k or (dotted(call.func) or "").rsplit(".", 1)[-1] not in TEXT_WRAPPERS:
                # the text and what follows it, as `bound_values` reads a call
                out.append((call if not k else ast.Call(func=call.func, args=call.args[k:], keywords=call.keywords),
                            func))
                continue
            bind = self.bindparams_of.get(id(call))
            if bind is not None:
                out.append((bind, func))
            outer = self.arg_of.get(id(call))
            if outer is not None:
                todo.append(outer)
            name = self.assigned_name.get(id(call))
            if name:
                todo += [e for e in self.name_binders.get(name, ()) if e[1] is func]
        return out

    def hole_values(self, name: str | None, nodes, func) -> list:
        """The expressions an interpolated value hole stands for among `nodes` (`{app_id}`
        in an f-string, `.format(v)` / `% (v,)` by their code, `.format(app=v)` by its
        name), with the function they are judged in."""
        if not name:
            return []
        found = []
        for node in {id(n): n for n in nodes}.values():
            for sub in ast.walk(node):
                if isinstance(sub, ast.keyword) and sub.arg == name or \
                        isinstance(sub, ast.FormattedValue) and self.ctx.code_for(sub.value) == name:
                    found.append((sub.value, func))
                elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "format":
                    found += [(a, func) for a in sub.args if self.ctx.code_for(a) == name]
                elif isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Mod):
                    args = sub.right.elts if isinstance(sub.right, ast.Tuple) else [sub.right]
                    found += [(a, func) for a in args if self.ctx.code_for(a) == name]
        return found
