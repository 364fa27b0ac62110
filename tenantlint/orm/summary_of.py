"""One function's summary (tenantlint.orm.summaries.Summary), by following its parsed body
with the ORM checker's own flow, several times when it has optional parameters: with all
of them None, all given, and each one given alone. What differs is what the parameter
scopes (rule 2); what the function returns unexecuted makes it a builder (rule 3)."""
from __future__ import annotations

import ast
from dataclasses import replace

from tenantlint.names import statements
from tenantlint.orm.checker import _self_name
from tenantlint.orm.provenance import loaded_rows
from tenantlint.orm.shapes import filters_by_keywords, parameters, query_params, tested_names
from tenantlint.orm.state import Root, State, judge
from tenantlint.orm.summaries import Summary, defaults_of as _defaults

_MAX_OPTIONAL = 6
_ACTORS = frozenset({"actor", "user", "current_user", "owner", "account", "principal", "request", "identity",
                     "member", "membership", "scope", "context", "ctx"})  # optional parameters followed one by one (more: the tested ones only)


class FollowFunctions:
    """The summary pass's way of following one function (a part of its Builder, which
    holds `catalog`, `paired`, `opaque` and the files' checkers)."""

    def _tenantish(self, param: str) -> int:
        """0 for a parameter named like the tenant or the acting user (followed first)."""
        stems = {c[:-3] if c.endswith("_id") else c for c in self.catalog.tenant_columns}
        lowered = param.lower()
        return 0 if any(stem and stem in lowered for stem in stems) or lowered in _ACTORS else 1

    def _returns_query(self, f, node) -> bool:
        """Does a `return` (or what a returned name was assigned) name a model or helper?"""
        assigned: dict[str, list[ast.stmt]] = {}
        returns = []
        for sub in statements(node.body):
            if isinstance(sub, ast.Return) and sub.value is not None:
                returns.append(sub)
            elif isinstance(sub, ast.Assign):
                for target in sub.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(sub)
        for ret in returns:
            if f.checker._relevant(ret, {}):
                return True
            if isinstance(ret.value, ast.Name) and any(f.checker._relevant(a, {}) for a in assigned.get(ret.value.id, ())):
                return True
        return False

    def _run(self, f, node, assume: dict[str, bool], loads: bool = False):
        """(unscoped model -> code, scoped models, returned states) of one run; models read
        under a filter it cannot read are in `self.opaque`, where a returned tuple holds the
        query in `self.returned_at`, and (`loads`: the run with every optional parameter
        given) the rows it returns loaded under scope and the ids they verify in `self.loaded`."""
        checker = f.checker
        saved, checker.observed = checker.observed, {}
        returned: list = []

        def then(flow) -> None:
            self.returned_at = flow.returned_at
            self.assumed.update(flow.passed_through)
            if loads:
                self.loaded = loaded_rows(checker.provenance, node, flow, *parameters(node)[:2])
        try:
            checker.analyze(node, assume, returning=returned.append, defaults=_defaults(node), then=then)
            observed = checker.observed
        finally:
            checker.observed = saved
        unscoped: dict[str, str] = {}
        scoped: set[str] = set()
        for root, states in observed.values():
            verdict = judge(states, checker.always, checker.always_reads)
            if verdict is None:
                scoped |= {m for s in states for m in s.models}
            elif verdict.code == "TL002":
                self.opaque |= set(verdict.models)
            else:
                for model in verdict.models:
                    unscoped[model] = "TL202" if verdict.code == "TL202" or unscoped.get(model) == "TL202" else "TL201"
        states = frozenset(s for group in returned for s in group if not s.dropped)
        return unscoped, frozenset(scoped), states

    def _summarize_parsed(self, name: str, f, node, owner: str) -> Summary | None:
        params, kwonly, optional = parameters(node)
        if optional:
            tested = tested_names(node)
            optional = sorted((p for p in optional if p in tested), key=self._tenantish)[:_MAX_OPTIONAL]
        # Only what can matter at a call is followed: a tenant-optional candidate, a
        # function returning something that names a query, or one of a pair of siblings.
        code = f.ctx.code_for(node)
        candidates = query_params(node, code, params)
        by_keywords = node.args.kwarg is not None and filters_by_keywords(code, node.args.kwarg.arg)
        if not (optional or candidates or by_keywords or name in self.paired or self._returns_query(f, node)) \
                or not f.checker.mentions(node):
            return None
        defaults = _defaults(node)
        narrows = tuple(self._narrows(f, node, candidates, defaults))
        self.opaque = set()
        self.loaded = (frozenset(), ())
        self.assumed = {}
        base, scoped, returned = self._run(f, node, {p: False for p in optional}, loads=not optional)
        returned_at = self.returned_at
        if not base and not scoped and not returned and not narrows and not self.opaque and not self.loaded[0]:
            return None  # no query at all (with a tenant given there would be none either)
        if optional:
            every, scoped_all, _ = self._run(f, node, {p: True for p in optional}, loads=True)
        rows, verifies = self.loaded
        kwargs = frozenset()
        if by_keywords:
            kwargs = frozenset(base) | frozenset(self.opaque) | frozenset(m for s in returned for m in s.models)
        reads, per_param, returns_optional = dict(base), [], []
        returns_scoped = _scoped_in(returned)
        if optional:
            reads = every
            scoped |= scoped_all
            for param in optional:
                alone, _, given_returned = self._run(f, node, {p: p == param for p in optional})
                lifted = frozenset(m for m in base if m not in alone)
                if lifted:
                    per_param.append((param, lifted))
                extra = _scoped_in(given_returned) - returns_scoped
                if extra:
                    returns_optional.append((param, extra))
        framework = next((s.root.framework for s in returned), "")
        return Summary(
            name=name, module=f.ctx.module_name, owner=owner, params=params, kwonly=kwonly,
            reads=frozenset(reads), bulk=any(code == "TL202" for code in base.values()),
            scoped_reads=frozenset(scoped) - frozenset(reads), optional=tuple(per_param),
            returns=frozenset(m for s in returned for m in s.models) if returned and framework else None,
            returns_scoped=returns_scoped, returns_optional=tuple(returns_optional), narrows=narrows, kwargs=kwargs,
            returns_at=next(iter(returned_at)) if returned and len(returned_at) == 1 and None not in returned_at
            else -1, rows=rows, verifies=verifies,
            assumes=tuple((p, params.index(p) if p in params else -1, text) for p, text in sorted(self.assumed.items())),
            narrow_defaults=tuple((p, params.index(p) if p in params else -1, text) for p, text in defaults.items()
                                  if p in tested_names(node)) if narrows else ())

    def _narrows(self, f, node, candidates, defaults):
        """For each parameter that receives a query: the models the returned query has
        scoped when the function runs with its other parameters at their defaults."""
        held, bound = f.checker._methods.get(id(node), ({}, {}))
        me = _self_name(node) if id(node) in f.checker._owners else None
        models = bound.get(me) if me else None
        models = models or frozenset(self.catalog.models)
        framework = _framework(self.catalog, models)
        for position, param in candidates:
            root = Root(node, framework)
            seed = {param: frozenset({State(root, frozenset(models))})}
            returned: list = []
            saved, f.checker.observed = f.checker.observed, {}
            try:
                f.checker.analyze(node, {}, returning=returned.append, seed=seed, defaults=defaults)
            finally:
                f.checker.observed = saved
            states = [s for group in returned for s in group if s.root is root]
            scoped = _scoped_in(states) & frozenset(models) if states else frozenset()
            if scoped:
                yield position, param, scoped


def _siblings(summaries: dict[str, Summary]) -> None:
    """Rule 4: `get_by_id` (unscoped) beside `get_by_id_and_org` (scoped, same models)."""
    by_owner: dict[str, list[Summary]] = {}
    for s in summaries.values():
        by_owner.setdefault(s.owner or s.module, []).append(s)
    for group in by_owner.values():
        for s in group:
            if not s.reads or s.optional:
                continue
            for other in group:
                if other is not s and other.short.startswith(s.short + "_") and not other.reads \
                        and s.reads <= other.scoped_reads:
                    summaries[s.name] = replace(s, sibling=other.name)
                    break


def _scoped_in(states) -> frozenset[str]:
    """Models scoped in every returned query that has them."""
    out: set[str] = set()
    models = {m for s in states for m in s.models}
    for model in models:
        if all(model not in s.unscoped() for s in states if model in s.models):
            out.add(model)
    return frozenset(out)


def _framework(catalog, models) -> str:
    kinds = [catalog.orm[m].framework for m in models if m in catalog.orm and catalog.orm[m].framework]
    return max(set(kinds), key=kinds.count) if kinds else "sqlalchemy"
