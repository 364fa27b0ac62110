"""Reading SQLAlchemy conditions: which tenant models a `where`/`filter` argument scopes
(`Model.tenant_id == x`, `in_`, `is_(None)`, SQLModel's `col()`, under `and_`, `&`, in a
splatted literal list or tuple), which pairs of models a join condition ties, and when
a condition is opaque (built by a helper elsewhere). `or_`/`|` scope only what every
branch scopes. A mixin of orm/sqlalchemy.SqlAlchemy, whose `model_refs`, `entities`
and `_statement_kind` say what an expression names."""
from __future__ import annotations

import ast

from tenantlint.orm.common import call_args, call_name
from tenantlint.orm.flow import Flow

# Calls whose result is a SQL expression that is no condition of its own.
NOT_OPAQUE = {"exists", "true", "false", "literal", "func", "case", "cast", "select", "any_", "all_"}


class SqlAlchemyConditions:
    def conditions(self, args, flow: Flow, depth: int = 0):
        """(scoped models, ties, opaque) of top-level conjuncts (`where(a, b, *conds)`, `and_(...)`)."""
        scoped, ties, opaque = set(), set(), False
        for arg in args:
            if arg.star == "*":
                sequence = self._items(arg.value, flow)
                if sequence is None:
                    opaque = True
                    continue
                items, mutable = sequence
                s, t, o = self._all(items, flow, depth)
                scoped |= s
                ties |= t
                # A list that scopes nothing may be appended to elsewhere; a tuple is read whole.
                opaque = opaque or o or (mutable and not s)
                continue
            s, t, o = self.cond(arg.value, flow, depth)
            scoped |= s
            ties |= t
            opaque = opaque or o
        return frozenset(scoped), frozenset(ties), opaque

    def cond(self, node, flow: Flow, depth: int = 0):
        none = (frozenset(), frozenset(), False)
        if depth > 30:
            return frozenset(), frozenset(), True
        node = flow.resolve(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return self._all([e.value if isinstance(e, ast.Starred) else e for e in node.elts], flow, depth)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
                return none
            left, right = self.tenant_refs(node.left, flow), self.tenant_refs(node.comparators[0], flow)
            if left and right:
                ties = frozenset((a[0], b[0]) for a in left for b in right if a != b)
                return (frozenset(), ties, False) if ties else none
            refs = left or right
            if refs:
                return frozenset(r[0] for r in refs), frozenset(), False
            if self.provenance is not None:
                scoped, ties = self.provenance.compare(node.left, node.comparators[0],
                                                       lambda n: self.column_ref(n, flow), flow)
                return scoped, ties, False
            return none
        if isinstance(node, ast.BoolOp):  # `a and b` is a Python bug, not SQL
            return none
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitAnd):
                return self._all([node.left, node.right], flow, depth)
            if isinstance(node.op, ast.BitOr):
                return self._any([node.left, node.right], flow, depth)
            return none
        if isinstance(node, ast.UnaryOp):
            return none
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name == "and_":
                return self.conditions(call_args(node), flow, depth + 1)
            if name == "or_":
                return self._disjuncts(call_args(node), flow, depth)
            if name == "not_":
                return none
            func = node.func
            if isinstance(func, ast.Attribute):
                # `in_(...)`, and `is_(None)`: the rows of no tenant (shared rows) are a scope.
                refs = self.tenant_refs(func.value, flow) \
                    if func.attr == "in_" or func.attr == "is_" and _is_null(node) else frozenset()
                if refs:
                    return frozenset(r[0] for r in refs), frozenset(), False
                if func.attr == "in_" and self.provenance is not None and len(node.args) == 1:
                    self.provenance.feeds(flow.resolve(node.args[0]), self._outer)
                    # `Page.notebook_id.in_(ids)`: ids of rows loaded under scope
                    scoped, ties = self.provenance.compare(func.value, node.args[0],
                                                           lambda n: self.column_ref(n, flow), flow, many=True)
                    if scoped or ties:
                        return scoped, ties, False
                if self.entities([func.value], flow) or call_name(func.value) in NOT_OPAQUE:
                    return none  # a column method: Task.title.ilike(...), Project.tasks.any(...)
            if name in NOT_OPAQUE or self._statement_kind(func):
                return none
            return frozenset(), frozenset(), True  # a helper built the condition elsewhere
        if isinstance(node, ast.Name):  # True/False/None are constants
            return frozenset(), frozenset(), True
        return none

    def _items(self, node, flow: Flow, depth: int = 0):
        """The conditions a splatted literal holds, and whether it is a list (which may be
        appended to): `conds = (A == a, B == b)`, `[*base, C == c]`, `base + (C == c,)`;
        None when it is not a literal. A tuple `+=`-ed on some paths only is as uncertain as a list."""
        extended = isinstance(node, ast.Name) and node.id in flow.extended
        node = flow.resolve(node)
        if depth > 10:
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            items, mutable = [], isinstance(node, ast.List) or extended
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    inner = self._items(elt.value, flow, depth + 1)
                    if inner is None:
                        items.append(elt.value)  # read as a condition: opaque
                        continue
                    items.extend(inner[0])
                    mutable = mutable or inner[1]
                else:
                    items.append(elt)
            return items, mutable
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._items(node.left, flow, depth + 1), self._items(node.right, flow, depth + 1)
            if left is None or right is None:
                return None
            return left[0] + right[0], left[1] or right[1] or extended
        return None

    def _all(self, nodes, flow, depth):
        scoped, ties, opaque = set(), set(), False
        for n in nodes:
            s, t, o = self.cond(n, flow, depth + 1)
            scoped |= s
            ties |= t
            opaque = opaque or o
        return frozenset(scoped), frozenset(ties), opaque

    def _disjuncts(self, args, flow: Flow, depth: int):
        """`or_(a, b, *conds)`: a splatted literal adds its items; any other, or a list
        (which may be appended to), makes the disjunction unverifiable."""
        nodes, unknown = [], False
        for arg in args:
            if arg.star != "*":
                nodes.append(arg.value)
                continue
            sequence = self._items(arg.value, flow)
            if sequence is None or sequence[1]:
                unknown = True
            if sequence is not None:
                nodes.extend(sequence[0])
        if unknown:
            return frozenset(), frozenset(), True
        return self._any(nodes, flow, depth)

    def _any(self, nodes, flow, depth):
        parts = [self.cond(n, flow, depth + 1) for n in nodes]
        if not parts:
            return frozenset(), frozenset(), False
        scoped = frozenset.intersection(*(p[0] for p in parts))
        ties = frozenset.intersection(*(p[1] for p in parts))
        return scoped, ties, any(p[2] for p in parts)

    def tenant_refs(self, node, flow: Flow | None = None) -> frozenset[tuple[str, str]]:
        """(model, column) for `Model.tenant_id`, `Model.tenant`, `table.c.tenant_id`; one per
        model for `self.model.tenant_id` when the class binds `model` to several."""
        node = self.unwrap(node)
        if not isinstance(node, ast.Attribute):
            return frozenset()
        column = node.attr.lower()
        owner = node.value
        if isinstance(owner, ast.Attribute) and owner.attr in ("c", "columns"):
            owner = owner.value
        return frozenset((model, column) for model in self.model_refs(owner, flow)
                         if column in self.models.tenant_names(model))

    def column_ref(self, node, flow: Flow) -> tuple[frozenset[str], str] | None:
        """(models, column) for any column of a tenant model: `Message.conversation_id`."""
        node = self.unwrap(node)
        if not isinstance(node, ast.Attribute):
            return None
        owner = node.value
        if isinstance(owner, ast.Attribute) and owner.attr in ("c", "columns"):
            owner = owner.value
        models = self.model_refs(owner, flow)
        return (models, node.attr.lower()) if models else None

    def unwrap(self, node):
        """The column inside an identity wrapper: SQLModel's `col(Model.field)`."""
        while isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and \
                isinstance(node.func, (ast.Name, ast.Attribute)):
            qualified = self.imports.qualify(node.func) if self.imports else None
            if not qualified or qualified.split(".")[0] != "sqlmodel" or qualified.rsplit(".", 1)[-1] != "col":
                break
            node = node.args[0]
        return node


def _is_null(call: ast.Call) -> bool:
    """`x.is_(None)`, `x.is_(null())`."""
    if len(call.args) != 1 or call.keywords:
        return False
    arg = call.args[0]
    return isinstance(arg, ast.Constant) and arg.value is None or \
        isinstance(arg, ast.Call) and not arg.args and call_name(arg.func) == "null"
