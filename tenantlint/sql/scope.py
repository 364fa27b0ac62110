"""Which tenant table occurrences are anchored, scope by scope (SPEC: "What scoped
means for SQL").

A scope is one SELECT (or UPDATE/DELETE/MERGE with its FROM/USING tables). Each tenant
table in it is an occurrence, keyed by alias. Conjuncts of WHERE and JOIN ON anchor an
occurrence directly (tenant column = caller-chosen value) or tie it to another
occurrence's tenant column; anchoring then flows along ties to a fixed point, and into
correlated / LATERAL subqueries, which are walked after their enclosing scope is
decided. Derived tables, CTE bodies and UNION branches are scopes of their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tenantlint.sql import glot
from tenantlint.sql.glot import exp
from tenantlint.sql.predicates import (
    anchored_by, columns_in, conjuncts, is_hole_name, is_hole_node, self_compared, ties, unwrap, weakening,
)
from tenantlint.sql.bound_params import placeholder_order
from tenantlint.sql.parent_keys import UNSEEN, parent_join, value_keys
from tenantlint.sql.types import SqlIssue, issue, predicate
from tenantlint.trace import NOT_TENANT, SCOPED, UNSCOPED, UNVERIFIED


@dataclass(eq=False)
class Occ:
    table: str
    key: str
    cols: frozenset[str]
    verb: str
    anchored: bool = False
    renamed: bool = False  # `orders AS o(tenant_id, id)`: which column is which is unknown
    weak: str = ""
    ties: list["Occ"] = field(default_factory=list)
    by: str = ""  # what anchored it, for the decision trace
    refused: str = ""  # where the untrusted value of its parent-key predicate comes from
    refused_col: str = ""


@dataclass(eq=False)
class QueryScope:
    parent: "QueryScope | None"
    keys: dict[str, Occ | None] = field(default_factory=dict)
    occs: list[Occ] = field(default_factory=list)
    clause_hole: bool = False
    filtered: list[str] = field(default_factory=list)  # columns its conditions name (for the trace)

    def lookup(self, key: str) -> tuple[bool, Occ | None]:
        scope: QueryScope | None = self
        while scope is not None:
            if key in scope.keys:
                return True, scope.keys[key]
            scope = scope.parent
        return False, None


@dataclass(frozen=True)
class Tables:
    """The policy's table knowledge, case-folded once per analysis."""

    tenant: dict[str, frozenset[str]]  # table -> tenant columns
    trusted: frozenset[str]
    shared: frozenset[str] = frozenset()  # global tables (named in the trace)
    columns: frozenset[str] = frozenset()  # every tenant column (TL105: a setting named for one)
    settings: frozenset[str] = frozenset()  # settings the project reads with current_setting()
    parents: dict = field(default_factory=dict)  # table tenant through its parent -> key -> parent table

    @classmethod
    def from_policy(cls, policy) -> "Tables":
        glob = {g.lower() for g in policy.global_tables}
        default = frozenset(c.lower() for c in policy.tenant_columns)
        tenant = {}
        for name, tt in policy.tenant_tables.items():
            key = name.lower().split(".")[-1].strip('"`[]')
            if key in glob:
                continue
            cols = frozenset(c.lower() for c in (tt.tenant_columns if tt is not None else ())) or default
            tenant[key] = cols
        columns = default.union(*tenant.values())
        # A child table's "tenant column" is its parent key (tenantlint/sql/parent_keys.py).
        parents = {t: dict(keys) for t, keys in getattr(policy, "parent_keys", {}).items()
                   if t not in tenant and t not in glob and keys}
        for table, keys in parents.items():
            tenant[table] = frozenset(keys)
        return cls(tenant, frozenset(t.lower().split(".")[-1] for t in policy.trusted_tables), frozenset(glob),
                   columns, frozenset(s.lower() for s in policy.tenant_settings), parents)


_VERBS = {exp.Update: "updated", exp.Delete: "deleted from", exp.Merge: "merged into"}


class ScopeWalker:
    """Walks one statement's queries and collects TL101/TL102/TL104/TL002 issues."""

    def __init__(self, tables: Tables, notes: list | None = None, untrusted=None, tree=None):
        self.tables = tables
        self.issues: list[SqlIssue] = []
        # The decision trace (tenantlint/trace.py), when asked: (table, verdict, reason).
        self.notes = notes
        # A parent key anchors a child table only with a trusted value (parent_keys.py):
        # the parameters bound to one, and those the caller found untrusted (key -> where
        # the value comes from). `tree`: the statement, whose placeholders are numbered
        # (for `?`) only when a parent key needs it.
        self.parent_params: set = set()
        self.untrusted = untrusted or {}
        self._tree = tree
        self._order: dict | None = None

    # -- queries -------------------------------------------------------------------
    def query(self, node, parent: QueryScope | None, ctes: frozenset[str]) -> None:
        while isinstance(node, (exp.Subquery, exp.Paren)):
            node = node.this
        if not isinstance(node, exp.Expression):
            return
        with_ = node.args.get(glot.WITH)
        if with_ is not None:
            names = [c.alias_or_name.lower() for c in with_.expressions]
            if with_.args.get("recursive"):
                for cte in with_.expressions:  # WITH RECURSIVE: every name is visible
                    self.query(cte.this, parent, ctes | frozenset(names))
            else:
                # A plain CTE sees only the CTEs before it: in `WITH orders AS (SELECT *
                # FROM orders)` the body reads the real table, not itself.
                for k, cte in enumerate(with_.expressions):
                    self.query(cte.this, parent, ctes | frozenset(names[:k]))
            ctes = ctes | frozenset(names)
        if isinstance(node, exp.SetOperation):
            self.query(node.this, parent, ctes)
            self.query(node.expression, parent, ctes)
        elif isinstance(node, (exp.Select, exp.Update, exp.Delete, exp.Merge)):
            self.scope(node, parent, ctes)
        else:
            self.nested(node, parent, ctes, skip=())

    def nested(self, node, scope: QueryScope | None, ctes: frozenset[str], skip) -> None:
        """Walk into an expression and judge every query found inside it."""
        stack = list(node.iter_expressions()) if node is not None else []
        while stack:
            cur = stack.pop()
            if isinstance(cur, exp.With):
                continue
            if any(cur is s for s in skip):
                stack.extend(cur.args.get(glot.JOINS) or ())  # ON clauses may hold subqueries
                continue
            if glot.is_join_group(cur):
                stack.append(cur.this)
                continue
            if isinstance(cur, (exp.Query, exp.Subquery)):
                self.query(cur, scope, ctes)
                continue
            stack.extend(cur.iter_expressions())

    def scope(self, node, parent: QueryScope | None, ctes: frozenset[str]) -> None:
        sc = QueryScope(parent)
        sources = glot.query_sources(node)
        later = []
        for src in sources:
            alias = src.alias.lower() if isinstance(src, exp.Expression) and src.alias else ""
            if is_hole_name(alias):
                sc.clause_hole = True  # `FROM orders {where_clause}`
            if isinstance(src, exp.Table):
                self._add_table(sc, src, node, ctes)
            elif isinstance(src, exp.Lateral) or (isinstance(src, exp.Subquery) and src.args.get("lateral")):
                sc.keys[alias] = None
                later.append(src)
            elif isinstance(src, exp.Subquery):
                sc.keys[alias] = None
                self.query(src.this, parent, ctes)
            else:
                sc.keys[alias] = None
                later.append(src)
        self._judge_conditions(sc, node, sources)
        self._resolve(sc)
        for src in later:
            if isinstance(src, exp.Lateral):
                self.query(src.this, sc, ctes)
            else:
                self.nested(src, sc, ctes, skip=())
        self.nested(node, sc, ctes, skip=[s for s in sources if not isinstance(s, exp.Join)])
        self._emit(sc)

    def _add_table(self, sc: QueryScope, src: exp.Table, node, ctes) -> None:
        name = str(src.name).lower()
        key = str(src.alias_or_name).lower()
        if (name in ctes and not src.args.get("db")) or name not in self.tables.tenant:
            sc.keys[key] = None
            if self.notes is not None and name not in ctes and not is_hole_name(name):
                why = "a global table" if name in self.tables.shared else "not a tenant table in the catalog"
                self.notes.append((name, NOT_TENANT, why))
            return
        verb = _VERBS.get(type(node), "read") if src is node.this else "read"
        alias = src.args.get("alias")
        renamed = isinstance(alias, exp.TableAlias) and bool(alias.args.get("columns"))
        occ = Occ(name, key, self.tables.tenant[name], verb, anchored=name in self.tables.trusted, renamed=renamed)
        if occ.anchored:
            occ.by = "row-level security, enabled and forced (trust-rls)"
        sc.keys[key] = occ
        sc.occs.append(occ)

    # -- conditions ----------------------------------------------------------------
    def _resolver(self, sc: QueryScope):
        def resolve(col: exp.Column) -> list[Occ]:
            name = str(col.name).lower()
            qual = str(col.table).lower() if col.table else ""
            if qual:
                found, occ = sc.lookup(qual)
                return [occ] if found and occ is not None and name in occ.cols and not occ.renamed else []
            return [o for o in sc.occs if name in o.cols and not o.renamed]
        return resolve

    def _judge_conditions(self, sc: QueryScope, node, sources) -> None:
        # (conjunct, the occurrences it can restrict, or None for all of them). An outer
        # join's ON does not filter the preserved side: `orders o LEFT JOIN c ON ... AND
        # o.tenant_id = %s` returns every order.
        conds: list[tuple[exp.Expression, object]] = []
        for key in ("where", "prewhere"):
            clause = node.args.get(key)
            if clause is not None:
                conds += [(c, None) for c in conjuncts(clause.this)]
        resolve = self._resolver(sc)
        if isinstance(node, exp.Merge):
            restrict = self._merge_restrict(sc, node, resolve)
            conds += [(c, restrict) for c in conjuncts(node.args.get("on"))]
        seen: list[Occ] = []
        for src in sources:
            occ = sc.keys.get(str(src.alias_or_name).lower()) if isinstance(src, exp.Table) else None
            join = glot.join_of(src)
            if join is not None:
                restrict = _join_restrict(join, occ, sc)
                conds += [(c, restrict) for c in conjuncts(join.args.get("on"))]
                self._using(sc, src, join, seen, restrict)
            if occ is not None:
                seen.append(occ)
        for cond, restrict in conds:
            if is_hole_node(cond) or _hole_column_compared(cond):
                sc.clause_hole = True  # `WHERE {filter}`, `WHERE {col} = %s`: may be the tenant predicate
                continue

            def can(o: Occ, restrict=restrict) -> bool:
                return o in sc.occs and (restrict is None or any(o is r for r in restrict))

            if self.notes is not None:
                sc.filtered += [str(c.name).lower() for c in columns_in(cond) if str(c.name).lower() not in sc.filtered]
            anchored = anchored_by(cond, resolve)
            for occ in anchored:
                if can(occ) and not self._refused(occ, cond):
                    occ.anchored = True
                    if self.notes is not None and not occ.by:
                        occ.by = _quoted(cond)
            if anchored:
                continue
            joined = parent_join(cond, resolve, sc.lookup, self.tables.parents) if self.tables.parents else None
            if joined is not None:
                child, parent = joined
                if can(child):
                    child.ties.append(parent)  # anchored when its parent row is
                continue
            tied = ties(cond, resolve)
            if tied is not None:
                left, right = tied
                for a in left:
                    for b in right:
                        if a is b:
                            a.weak = a.weak or "a comparison with itself"
                            continue
                        if can(a):
                            a.ties.append(b)
                        if can(b):
                            b.ties.append(a)
                continue
            selfish = [o for o in self_compared(cond, resolve) if o in sc.occs]
            for occ in selfish:
                occ.weak = occ.weak or "a comparison with itself"
            if selfish:
                continue
            for col in columns_in(cond):
                why = weakening(col, cond)
                if why:
                    for occ in resolve(col):
                        if occ in sc.occs and not occ.weak:
                            occ.weak = why

    def _refused(self, occ: Occ, cond) -> bool:
        """Does a parent-key predicate fail to anchor a child table because its value is
        not trusted? (A tenant column anchors with any caller-chosen value.)"""
        if occ.table not in self.tables.parents:
            return False
        if self._order is None:
            self._order = placeholder_order(self._tree) if self._tree is not None else {}
        keys = value_keys(cond, self._order)
        self.parent_params.update(keys)
        for key in keys:
            where = self.untrusted.get(key)
            if where:
                occ.refused = occ.refused or where
                occ.refused_col = occ.refused_col or next(
                    (str(c.name).lower() for c in columns_in(cond) if str(c.name).lower() in occ.cols), "")
                return True
        return False

    def _merge_restrict(self, sc: QueryScope, node, resolve):
        """MERGE's ON is an inner join for WHEN MATCHED; `WHEN NOT MATCHED BY SOURCE`
        acts on target rows the ON did not match, `WHEN NOT MATCHED` on such source
        rows, so the ON filters neither of those (unless the clause's own condition
        anchors it)."""
        target = [o for o in sc.occs if self._is_target(o, node)]
        source = [o for o in sc.occs if not any(o is t for t in target)]
        whens = node.args.get("whens")
        free: list[Occ] = []
        for when in (whens.expressions if whens is not None else ()):
            if when.args.get("matched"):
                continue
            side = target if when.args.get("source") else source
            pinned = [o for c in conjuncts(when.args.get("condition")) for o in anchored_by(c, resolve)]
            free += [o for o in side if not any(o is p for p in pinned)]
        if not free:
            return None
        return [o for o in sc.occs if not any(o is f for f in free)]

    @staticmethod
    def _is_target(occ: Occ, node) -> bool:
        target = node.this
        return isinstance(target, exp.Table) and str(target.alias_or_name).lower() == occ.key

    def _using(self, sc: QueryScope, src, join: exp.Join, seen: list[Occ], restrict=None) -> None:
        """`JOIN t USING (tenant_id)` (or `NATURAL JOIN t`) ties t to every earlier
        table with that column."""
        occ = sc.keys.get(str(src.alias_or_name).lower())
        if occ is None:
            return
        cols = [str(ident.name).lower() for ident in join.args.get("using") or ()]
        if str(join.args.get("method") or "").upper() == "NATURAL":
            cols += sorted(occ.cols)  # NATURAL JOIN equates every column both sides have
        for col in cols:
            if col in occ.cols:
                for other in seen:
                    if col in other.cols:
                        if restrict is None or any(occ is r for r in restrict):
                            occ.ties.append(other)
                        if restrict is None or any(other is r for r in restrict):
                            other.ties.append(occ)

    @staticmethod
    def _resolve(sc: QueryScope) -> None:
        changed = True
        while changed:
            changed = False
            for occ in sc.occs:
                if not occ.anchored and any(t.anchored for t in occ.ties):
                    occ.anchored = changed = True
                    if not occ.by:  # for the decision trace
                        occ.by = "its join to the anchored `" + next(t.key for t in occ.ties if t.anchored) + "`"

    def _emit(self, sc: QueryScope) -> None:
        some_anchored = any(o.anchored for o in sc.occs)
        for occ in sc.occs:
            if self.notes is not None:
                self._note(sc, occ)
            if occ.anchored:
                continue
            col = sorted(occ.cols)[0]
            if occ.weak:
                self.issues.append(issue("TL102", occ.table, "", f"the `{col}` predicate is weakened by {occ.weak}",
                                         table=occ.table))
            elif sc.clause_hole:
                self.issues.append(issue(
                    "TL002", occ.table, "", f"the `{col}` scope depends on an interpolated clause and cannot be verified",
                    table=occ.table))
            elif some_anchored:
                self.issues.append(issue("TL104", occ.table, "joined",
                                         f"without tying its `{col}` to the anchored tenant", table=occ.table))
            elif occ.refused == UNSEEN:
                self.issues.append(issue(
                    "TL002", occ.table, "", f"the value of its `{occ.refused_col or col}` predicate is bound where "
                    "tenantlint cannot follow it, so whether it is a trusted id cannot be verified", table=occ.table))
            elif occ.refused:
                self.issues.append(issue("TL101", occ.table, occ.verb, f"{occ.refused} (its `{occ.refused_col or col}` "
                                         "predicate needs a trusted value)", table=occ.table))
            else:
                self.issues.append(issue("TL101", occ.table, occ.verb, f"without {predicate(col)}", table=occ.table))

    def _note(self, sc: QueryScope, occ: Occ) -> None:
        if occ.anchored:
            self.notes.append((occ.table, SCOPED, f"anchored by {occ.by}"))
            return
        col = sorted(occ.cols)[0]
        if occ.weak:
            self.notes.append((occ.table, UNSCOPED, f"the `{col}` predicate is weakened by {occ.weak}"))
            return
        if sc.clause_hole:
            self.notes.append((occ.table, UNVERIFIED, f"no `{col}` predicate in the text; an interpolated clause "
                                                      "may hold one"))
            return
        if occ.refused:
            self.notes.append((occ.table, UNSCOPED, f"its `{occ.refused_col or col}` predicate takes "
                                                    f"{occ.refused.removeprefix('by ')}, not a trusted value"))
            return
        held = f"its conditions hold {', '.join(f'`{c}`' for c in sc.filtered[:6])}" if sc.filtered \
            else "it has no conditions"
        self.notes.append((occ.table, UNSCOPED, f"`{occ.table}` has no `{col}` predicate; {held}"))


def _short(text: str, limit: int = 80) -> str:
    """A predicate as quoted in the trace: positional placeholders (normalized to
    `:tlp_N` for parsing) read as `?` again."""
    text = _POSITIONAL.sub("?", text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _quoted(cond: exp.Expression) -> str:
    """The trace must never change a verdict: a predicate too deep to print is named so."""
    try:
        return f"`{_short(cond.sql())}`"
    except Exception:  # noqa: BLE001 - RecursionError and sqlglot's own generator errors
        return "a predicate too deeply nested to quote"


_POSITIONAL = re.compile(r":tlp_\w+")


def _join_restrict(join: exp.Join, occ: Occ | None, sc: QueryScope):
    """Which occurrences a join's ON / USING can restrict: all (None) for an inner,
    cross or semi join; only the joined table for LEFT; all but it for RIGHT; none for
    FULL and ANTI joins."""
    side = str(join.args.get("side") or "").upper()
    kind = str(join.args.get("kind") or "").upper()
    joined = [occ] if occ is not None else []
    if glot.is_join_group(join.this):  # `LEFT JOIN (b JOIN c ON ...) ON ...`: b and c
        keys = {str(t.alias_or_name).lower() for t in join.this.find_all(exp.Table)}
        joined = [o for o in sc.occs if o.key in keys]
    if side == "FULL" or kind == "ANTI":
        return []
    if kind == "SEMI":
        return None
    if side == "LEFT":
        return joined
    if side == "RIGHT":
        return [o for o in sc.occs if not any(o is j for j in joined)]
    return None


def _hole_column_compared(cond: exp.Expression) -> bool:
    """`{col} = %s` / `{col} IN (...)`: a hole in the column position of a comparison may
    name the tenant column; `id = {value}` only fills a value and cannot."""
    cond = unwrap(cond)
    if isinstance(cond, exp.EQ):
        sides = (cond.this, cond.expression)
        return any(is_hole_node(a) and not (isinstance(unwrap(b), exp.Column) and not is_hole_node(b))
                   for a, b in (sides, sides[::-1]))
    if isinstance(cond, exp.In):
        return is_hole_node(cond.this)
    return False
