"""Calls to summarized project functions, judged at the call (SPEC "Across functions"):

- rule 2: a tenant-optional helper called without its tenant argument (omitted, `None`,
  or a parameter of the caller assumed None) reads unscoped: TL201 at the call; a
  `**kwargs` helper is scoped exactly when a tenant keyword is passed;
- rule 3: a builder's call is a query created here, judged by what the caller does with it;
- rule 4: an unscoped accessor with a scoped sibling, called from another module.

A call through a class (`WidgetRepository(s).read(...)`, `Dashboard.get_by_id(...)`)
judges only the tenant models that class stands for."""
from __future__ import annotations

import ast

from tenantlint.callgraph import call_target, resolve
from tenantlint.orm.common import arg_values
from tenantlint.orm.flow import EMPTY, Flow
from tenantlint.orm.index import bound_attributes
from tenantlint.orm.pyast import lookup_is_tenant
from tenantlint.orm.state import Root, State
from tenantlint.orm.summaries import Target, bound_params, dotted_or_none, keywords_passed, resolve_call, short


class CallJudge:
    def __init__(self, checker) -> None:
        self.checker = checker
        self.functions = checker.functions
        self.models = checker.models
        self.module = checker.ctx.module_name
        self.qualify = checker.ctx.imports.qualify if checker.ctx.imports is not None else (lambda node: None)
        self.bindings = bound_attributes(checker.ctx.catalog.orm)
        self.resolved: list[str] = []  # qualified callees, in order (the summary pass counts callers)
        self._shorts: frozenset[str] | None = None  # the summarized functions' names

    def bind(self, owner: str, me: str | None):
        """The flow's `calls` hook inside one function (`owner`/`me`: its class, `self` name)."""
        return lambda call, flow: self.judge(call, flow, owner, me)

    def judge(self, call: ast.Call, flow: Flow, owner: str, me: str | None):
        target = resolve_call(call, self.functions, self.qualify, owner, me, flow.resolve) or \
            self._through_attributes(call, flow, owner, me)
        if target is None:
            return None
        summary = target.summary
        self.resolved.append(summary.name)
        narrowed = EMPTY
        held = self._narrowed_args(call, summary, flow)
        for value in arg_values(call):
            if id(value) in held:
                extra = held[id(value)]
                narrowed |= frozenset(s.derive(scoped=s.scoped | (extra & s.models)) for s in flow.eval(value))
            else:
                flow.walk(value)
        keep = self._receiver(target.receiver)
        func = call.func
        if me and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == me:
            stands = self.checker.models.bound.get(me)
            if stands is not None:  # `cls.read(...)`: the models `cls` stands for here
                keep = (lambda outer: lambda models: outer(models) & stands)(keep)

        def assumed_none(node) -> bool:
            return isinstance(node, ast.Name) and flow.assume.get(node.id) is False

        given, hidden = bound_params(call, summary, assumed_none)
        if summary.assumes and not holds(call, summary.assumes, flow):
            given = set()  # its tenant parameters scope nothing with these other values
        unscoped: set[str] = set()
        by_keyword = self._keyword_scoped(call, summary.kwargs)
        if not hidden:
            for param, models in summary.optional:
                if param not in given:
                    unscoped |= models
            if summary.kwargs and not summary.optional:
                # a builder's query the tenant parameter it is given scopes is not unscoped
                # for want of a tenant keyword (`cls._preprocess(ids, actor, **filters)`)
                unscoped |= summary.kwargs - frozenset().union(
                    *(extra for param, extra in summary.returns_optional if param in given))
            unscoped -= by_keyword
        if summary.sibling and summary.reads and summary.module != self.module:
            unscoped |= summary.reads
        unscoped = keep(frozenset(unscoped))
        root = Root(call, summary_framework(summary, self.models))
        if unscoped:
            flow.observe(frozenset({State(root, unscoped, write=summary.bulk)}))
        if summary.returns is not None:
            models = keep(summary.returns)
            if models:
                scoped = set(summary.returns_scoped) | by_keyword
                for param, extra in summary.returns_optional:
                    if param in given:
                        scoped |= extra
                first = next(iter(models)) if len(models) == 1 else None
                if summary.returns_at >= 0:
                    flow.tuple_calls[id(call)] = summary.returns_at
                return narrowed | frozenset({State(root, models, frozenset(scoped) & models, last_entity=first)})
        return narrowed

    def _through_attributes(self, call: ast.Call, flow: Flow, owner: str, me: str | None) -> Target | None:
        """`self.message_manager.list_messages(...)`: a summarized method reached through
        the type of an attribute of `self` (what `__init__` assigns, class annotations), as
        the project call graph knows it. A tenant-optional helper called so without its
        tenant is judged at that call like any other."""
        func = call.func
        if not owner or not me or not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Attribute) \
                or getattr(self.checker.ctx, "summarizing", False):
            return None  # (a summary is cached with its file: not through other files' attribute types)
        if self._shorts is None:
            self._shorts = frozenset(s.short for s in self.functions.functions.values() if s is not None)
        symbols = getattr(self.checker.ctx.catalog.caller_trust, "symbols", None)
        if func.attr not in self._shorts or symbols is None:
            return None
        fact = call_target(call, self.qualify, owner, me, flow.resolve, {})
        found = resolve(fact, symbols) if fact is not None and fact.kind == "attr" else None
        summary = self.functions.functions.get(found[0]) if found else None
        return Target(summary, found[1], found[2]) if summary is not None else None

    def _keyword_scoped(self, call: ast.Call, models) -> frozenset[str]:
        """Models of a `**kwargs` helper a call scopes with a tenant keyword (`organization_id=`)."""
        passed = keywords_passed(call)
        out = set()
        for model in models:
            info = self.models.info(model)
            if info is not None and any(lookup_is_tenant(k, info.tenant_columns, info.tenant_relations) for k in passed):
                out.add(model)
        return frozenset(out)

    def _narrowed_args(self, call: ast.Call, summary, flow: Flow) -> dict[int, frozenset[str]]:
        """id(argument) -> models a narrowing helper scopes in the query passed there (none
        when the call gives a parameter the helper was judged at its default another value)."""
        out: dict[int, frozenset[str]] = {}
        if not holds(call, summary.narrow_defaults, flow):
            return out
        for position, param, scoped in summary.narrows:
            if 0 <= position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
                out[id(call.args[position])] = scoped
            for kw in call.keywords:
                if kw.arg == param:
                    out[id(kw.value)] = scoped
        return out

    def _receiver(self, receiver: str):
        """The models a call through class `receiver` can touch (None: no restriction)."""
        if not receiver:
            return lambda models: models
        name = short(receiver)
        known = self.functions.class_models.get(name)
        allowed = set(known or ())
        for models in self.bindings.get(name, {}).values():
            allowed |= models
        if not allowed and known is None:
            return lambda models: models  # not a model class, binds no model: no restriction
        return lambda models: models & frozenset(allowed)


def holds(call: ast.Call, assumed, flow: Flow) -> bool:
    """Does a call give the parameters a summary was computed with at their assumed value
    (`assumed`: (parameter, position, text))? A parameter of the caller with no default
    passed on as it is holds it too, as a condition on the caller's own callers
    (`flow.passed_through`, in the caller's summary)."""
    for param, position, text in assumed:
        given = call.args[position] if 0 <= position < len(call.args) else \
            next((k.value for k in call.keywords if k.arg == param), None)
        if given is None or _text(given, flow) == text:
            continue
        if isinstance(given, ast.Name) and given.id in flow.required:
            flow.passed_through[given.id] = text
            continue
        return False
    return True


def _text(node: ast.expr, flow: Flow) -> str | None:
    """A value as a default is written (`AccessType.ORGANIZATION`, `'read'`); a parameter
    of the caller taken at its own default stands for that."""
    if isinstance(node, ast.Name) and node.id in (flow.defaults or flow.param_defaults):
        return (flow.defaults or flow.param_defaults)[node.id]
    if isinstance(node, ast.Constant):
        return repr(node.value)
    return dotted_or_none(node)


def summary_framework(summary, models) -> str:
    """The ORM of a builder's query (its methods are followed by that framework)."""
    for model in sorted(summary.returns or summary.reads or ()):
        orm = models.orm(model)
        if orm is not None and orm.framework:
            return orm.framework
    return "sqlalchemy"
