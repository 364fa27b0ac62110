"""The ORM checker: screen the file, follow queries through each function (and module
and class bodies), judge what was observed, report at the expression that created it."""
from __future__ import annotations

import ast
import re
from bisect import bisect_left
from typing import NamedTuple

from tenantlint.orm.calls import CallJudge
from tenantlint.orm.common import Models, call_name
from tenantlint.orm.django import Django
from tenantlint.orm.explain import handed_to
from tenantlint.orm.flow import Flow
from tenantlint.orm.guards import guarded_assignments
from tenantlint.orm.index import bound_attributes
from tenantlint.orm.inherited import calls_super, through
from tenantlint.orm.peewee import Peewee
from tenantlint.orm.provenance import Provenance
from tenantlint.orm.pyast import top_classes
from tenantlint.orm.sqlalchemy import SqlAlchemy
from tenantlint.orm.state import Root, State, judge
from tenantlint.orm.summaries import FunctionIndex, defaults_of
from tenantlint.rulebase import Checker
from tenantlint.trace import NOT_TENANT, PARTLY, SCOPED, UNSCOPED, UNVERIFIED
from tenantlint.words import token_offsets, word_counts, words_of

_NEWLINE_BYTES = re.compile(rb"\r\n?|\n")
ESCAPES = ("scopes_disabled",)
_LISTED = 4  # models named in a message
SHORTCUT_WORDS = frozenset({"get_object_or_404", "get_list_or_404", "aget_object_or_404", "aget_list_or_404"})
# Methods a framework calls itself: what they return is judged there even when project code calls them too.
FRAMEWORK_ENTRIES = frozenset({"get_queryset", "get_object", "queryset", "get_serializer_class"})
NO_FUNCTIONS = FunctionIndex()


class OrmChecker(Checker):
    codes = ("TL201", "TL202", "TL002")

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """The `active` test, before the parse: no tenant model (nor a class whose attribute
        holds one) named, nothing to judge."""
        return bool(catalog.models) and not _screen_words(catalog).isdisjoint(words_of(source))

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        catalog = ctx.catalog
        self.active = bool(catalog.models) and ctx.module is not None and \
            not _screen_words(catalog).isdisjoint(words_of(ctx.source))
        self.observed: dict[int, tuple] = {}
        self._word_offsets: dict[bytes, list[int]] = {}  # word -> where it occurs in the file's bytes
        self._hits: tuple = (None, [])  # (the names they are of, where those occur)
        self._methods: dict[int, tuple[dict, dict]] = {}  # id(method) -> (held queries, bound attributes)
        self.functions: FunctionIndex = getattr(catalog, "functions", None) or NO_FUNCTIONS
        self._owners: dict[int, str] = {}  # id(method of a module-level class) -> qualified class
        self._top: set[int] = set()  # module-level functions
        if self.active:
            self.models = models = Models(ctx)
            self.provenance = Provenance(self)
            self.frameworks = (Django(models, self.provenance), SqlAlchemy(models, self.provenance),
                               Peewee(models, self.provenance))
            self.call_judge = CallJudge(self) if self.functions.functions else None
            self._top = {id(s) for s in ctx.module.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
            self._top_classes = {id(c) for c in top_classes(ctx.module)}
            shared = _catalog_names(catalog)
            self.always, self.always_reads = shared.always, shared.always_reads
            self.bindings = bound_attributes(catalog.orm)
            # A model imported under another name (`import Agent as AgentModel`) is named so.
            aliases = ctx.imports.aliases if ctx.imports is not None else {}
            renamed = frozenset(local for local, full in aliases.items() if full.rsplit(".", 1)[-1] in catalog.models)
            self.names = shared.names | renamed
            self._names_bytes = shared.names_bytes | frozenset(n.encode() for n in renamed)
            # ast columns are UTF-8 byte offsets: statement text is a slice of the encoded file.
            self._data = ctx.source.encode("utf-8", "surrogatepass")
            self._starts = ctx.lines.starts if len(self._data) == len(ctx.source) else \
                [0] + [m.end() for m in _NEWLINE_BYTES.finditer(self._data)]
            self._permissions = "check_object_permissions(" in ctx.source

    def get_visitors(self) -> dict:
        return super().get_visitors() if self.active else {}

    def _flow(self, words: frozenset[bytes] = frozenset()) -> Flow:
        flow = Flow(self.frameworks, self._observe, self._is_escape)
        flow.in_provider = self.ctx.in_scope_provider if self.ctx.settings.scope_providers else None
        flow.relevant = self._relevant if not words else lambda stmt, env: self._relevant(stmt, env, words)
        return flow

    def _inline(self, first) -> bool:
        """Does a body start on its header's line (`if x: return qs`)?"""
        start = self._starts[first.lineno - 1]
        return first.col_offset > 0 and not self._data[start:start + first.col_offset].isspace()

    def _relevant(self, stmt, env, extra: frozenset[bytes] = frozenset()) -> bool:
        """Does the statement's text name a tenant model, a shortcut, a variable of `env`
        or (`extra`) an attribute of `self` that holds a model or a query? (The file's
        words are found once: a statement asks whether one of them starts in its span.)"""
        starts = self._starts
        low = starts[stmt.lineno - 1] + stmt.col_offset
        high = starts[stmt.end_lineno - 1] + stmt.end_col_offset
        if _within(self._name_offsets(), low, high):
            return True
        return any(_within(self._offsets(word), low, high) for word in extra) or \
            any(_within(self._offsets(name.encode()), low, high) for name in env)

    def _name_offsets(self) -> list[int]:
        """Where the followed names (`_names_bytes`, which the summary pass may widen) occur."""
        if self._hits[0] is not self._names_bytes:
            present = {w.encode() for w in words_of(self.ctx.source) & self.names}
            self._hits = (self._names_bytes, sorted(i for w in present for i in self._offsets(w)))
        return self._hits[1]

    def _offsets(self, word: bytes) -> list[int]:
        found = self._word_offsets.get(word)
        if found is None:
            found = self._word_offsets[word] = token_offsets(self._data, word)
        return found

    def _observe(self, states) -> None:
        for state in states:
            entry = self.observed.setdefault(id(state.root), (state.root, set()))
            entry[1].add(state)

    def _is_escape(self, call: ast.Call) -> bool:
        return call_name(call.func) in ESCAPES

    def visit_Module(self, node: ast.Module) -> None:
        if self.active:
            self.provenance.enter(None)
            self._flow().run(node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # async defs too
        if not self.active:
            return
        name = self.qualname(node)
        summary = self.functions.functions.get(name) if name else None
        assume, returning, kwargs = {}, None, ""
        if summary is not None and name in self.functions.called:
            # Rule 2: a tenant-optional helper's callers are judged; its body is judged as
            # when the tenant is given. Rule 3: a builder's query is judged where it runs.
            assume = {param: True for param, _ in summary.optional}
            kwargs = node.args.kwarg.arg if summary.kwargs and node.args.kwarg else ""
            if summary.returns is not None and node.name not in FRAMEWORK_ENTRIES:
                returning = _ignore
        self.analyze(node, assume, returning, kwargs=kwargs)

    def qualname(self, node) -> str:
        """`module.Class.method` / `module.function` for a module-level function or a method
        of a module-level class, else ""."""
        owner = self._owners.get(id(node))
        if owner:
            return f"{owner}.{node.name}"
        if id(node) in self._top and self.ctx.module_name:
            return f"{self.ctx.module_name}.{node.name}"
        return ""

    def mentions(self, node) -> bool:
        """Does a definition's text name anything the flow follows (a model, a helper, a
        bound class, `self`/`cls` attributes that hold a model)?"""
        held, bound = self._methods.get(id(node), ({}, {}))
        if held or bound:
            return True
        return self._relevant(node, {})

    def analyze(self, node, assume: dict | None = None, returning=None, seed=None, defaults=None,
                kwargs: str = "", then=None) -> None:
        """Follow one function's body; what it observes goes to `observed`. `seed`: queries
        its parameters hold; `defaults`: parameters taken at their default value; `then(flow)`
        runs once it is followed (the summary pass reads its returns there)."""
        escaped = any(call_name(d) in ESCAPES for d in node.decorator_list)
        held, bound = self._methods.get(id(node), ({}, {}))
        words = frozenset(w.rsplit(".", 1)[-1].rstrip("()").encode() for w in (*held, *bound))
        flow = self._flow(words)
        flow.held = held
        flow.authorized = self._permissions and "check_object_permissions(" in self.ctx.code_for(node)
        flow.assume = dict(assume or {})
        flow.returning = returning
        flow.defaults = dict(defaults or {})
        flow.param_defaults = defaults_of(node)
        flow.required = _required(node)
        flow.kwargs = kwargs
        flow.tenant_names = self.models.tenant_names
        code = self.ctx.code_for(node)
        if "!=" in code or " is not " in code:
            flow.guarded = guarded_assignments(node.body)
        if self.call_judge is not None:
            flow.calls = self.call_judge.bind(self._owners.get(id(node), ""), _self_name(node)
                                              if id(node) in self._owners else None)
        self.models.bound = bound
        self.provenance.enter(node)
        try:
            flow.run(node.body, escaped=escaped, env=seed)
            if then is not None:
                then(flow)
            if id(node) not in self._owners and self._named_again(node.name):
                self.provenance.helper_done(node, flow)
        finally:
            self.models.bound = {}

    def _named_again(self, name: str) -> bool:
        """Is a function's name in the file beyond its `def`? What `helper_done` learns
        (ids it verifies, scoped rows it returns) serves only calls of it by its bare name
        in this file: never a method's (those are `self.name(...)`)."""
        return word_counts(self.ctx.source)[name] > 1 or not name.isascii()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not self.active or self._inline(node.body[0]):
            return  # `class A(B): x = ...`: a body on the header's line is left alone
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        # A view's class-level `queryset` is not what runs when the class overrides
        # get_queryset(), unless that method starts from it: `self.queryset` or
        # `super().get_queryset()` (DRF's and Django's return the class-level queryset).
        overrides = any(s.name == "get_queryset" for s in methods)
        qual = f"{self.ctx.module_name}.{node.name}" if id(node) in self._top_classes and self.ctx.module_name else ""
        # The get_queryset() methods of its project bases, nearest first (orm/inherited.py).
        inherited = tuple(c for c in self.ctx.catalog.inherited_querysets.get(qual, ()) if c[0] != qual)
        if not overrides:
            self._generic_view_model(node, inherited)
        replaced = _replaced_querysets(methods)
        body = [s for s in node.body if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and
                                             isinstance(s.targets[0], ast.Name) and s.targets[0].id in replaced)]
        flow = self._flow()
        env = flow.run(body, observe_end=not overrides and not inherited)
        queryset = env.get("queryset") if env else None
        super_queryset = queryset  # what `super().get_queryset()` returns in its own get_queryset()
        if inherited and env is not None and not overrides:
            for name, states in env.items():
                if name != "queryset":
                    flow.observe(states)
            if queryset:
                self._observe(self._inherited(inherited, queryset))
        elif inherited and queryset and any(calls_super(s) for s in methods if s.name == "get_queryset"):
            ran = through(inherited, queryset, self._run_inherited, _self_name)
            if ran is not None:
                self._observe(ran[1])
                super_queryset = ran[0]
        bound = self.bindings.get(node.name, {})
        if qual:
            for fn in methods:
                self._owners[id(fn)] = qual
        # `cls` in a classmethod: the class, and its subclasses that are tenant models.
        kinds = self.functions.class_models.get(node.name, frozenset()) | \
            (frozenset({node.name}) & frozenset(self.ctx.catalog.models))
        for fn in methods:
            me = _self_name(fn)
            if me is None:
                continue
            held = {f"{me}.queryset": queryset, "super().get_queryset()": super_queryset} \
                if queryset and fn.name == "get_queryset" else {}
            attrs = {f"{me}.{attr}": models for attr, models in bound.items()}
            if kinds and any(call_name(d) == "classmethod" for d in fn.decorator_list):
                attrs[me] = self._called_through(f"{qual}.{fn.name}", kinds) if qual else kinds
            if held or attrs:
                self._methods[id(fn)] = (held, attrs)

    def _called_through(self, method: str, kinds: frozenset[str]) -> frozenset[str]:
        """The models `cls` stands for in the body of a base class's classmethod: those of
        the classes the project calls it through (`Page.read(...)`, also through other
        classmethods), all of them when one call's class is unknown or nothing calls it.
        Its body is judged once for those, not for every subclass nothing reads through it."""
        through = self.functions.receivers.get(method)
        if not through or "*" in through:
            return kinds
        allowed: set[str] = set()
        for name in through:
            allowed |= self.functions.class_models.get(name, frozenset())
            if name in self.ctx.catalog.models:
                allowed.add(name)
        return kinds & frozenset(allowed)

    def _inherited(self, chain, states) -> frozenset:
        """What runs of a class-level query through the get_queryset() a view inherits:
        what it returns and what it consumes otherwise (the query itself when a method
        cannot be read)."""
        ran = through(chain, states, self._run_inherited, _self_name)
        return states if ran is None else ran[0] | ran[1]

    def _run_inherited(self, fn, held: dict) -> tuple[frozenset, frozenset]:
        """Follow an inherited get_queryset() (parsed from the catalog's text: its nodes
        are not this file's, so nothing in it is reported here and no screen applies)."""
        returned: list = []
        consumed: set = set()
        flow = Flow(self.frameworks, consumed.update, self._is_escape)
        flow.held = held
        flow.returning = returned.append
        flow.param_defaults = defaults_of(fn)
        flow.tenant_names = self.models.tenant_names
        self.provenance.enter(fn)
        try:
            flow.run(fn.body)
        finally:
            self.provenance.enter(None)
        return frozenset(s for group in returned for s in group), frozenset(consumed)

    def _generic_view_model(self, node: ast.ClassDef, inherited=()) -> None:
        """`class DealList(ListView): model = Deal` with no get_queryset() and no
        `queryset`: Django's generic view runs `Deal._default_manager.all()`, or hands it
        to the get_queryset() of a project mixin (`inherited`), which may narrow it."""
        imports = self.ctx.imports
        if imports is None or not any(_is_object_view(imports.qualify(b)) for b in node.bases):
            return
        assigned = {t.id: stmt.value for stmt in node.body if isinstance(stmt, ast.Assign)
                    for t in stmt.targets if isinstance(t, ast.Name)}
        value = assigned.get("model")
        if value is None or "queryset" in assigned:
            return
        model = self.models.model_of(value, "django")
        if model is None or model in self.always or self.ctx.in_scope_provider(value):
            return
        if inherited:
            self._observe(self._inherited(inherited, frozenset({State(Root(value, "django"), frozenset({model}))})))
            return
        self.report("TL201", value, self._message("TL201", [model]) + " (a generic view with no get_queryset())")

    def finish(self) -> None:
        for root, states in sorted(self.observed.values(), key=lambda e: _pos(self, e[0].node)):
            verdict = judge(states, self.always, self.always_reads)
            if self.ctx.trace is not None:
                self._trace(root, states, verdict)
            if verdict is None or self.ctx.in_scope_provider(root.node) or \
                    self.provenance.filters_scoped(root, verdict.models):
                continue
            pos = self.ctx.positions.get(root.node)
            if pos is not None:
                message = self._message(verdict.code, verdict.models)
                if root.id_source:
                    message += f" ({root.id_source})"
                self.ctx.report(verdict.code, message, pos.start.line,
                                pos.start.column + 1, pos.end.line, pos.end.column + 1,
                                snippet=self.ctx.code_for(root.node))

    def _trace(self, root, states, verdict) -> None:
        """What decided this query, for `tenantlint why` (tenantlint/trace.py)."""
        models = sorted({m for s in states for m in s.models})
        subject = ", ".join(models) or "query"
        if self.ctx.in_scope_provider(root.node):
            self.ctx.decide(root.node, "orm", subject, SCOPED, "inside a scope provider (scope-providers)")
            return
        if all(s.dropped for s in states):
            self.ctx.decide(root.node, "orm", subject, NOT_TENANT, "raw SQL or a write: judged by the SQL and write rules")
            return
        for model in sorted({m for s in states for m in s.models} & self.always):
            info = self.ctx.catalog.models.get(model)
            self.ctx.decide(root.node, "orm", model, SCOPED, f"`{model}` is always scoped (its default manager or "
                            "loader criteria filter by tenant)", (info.path, info.line) if info else None)
        seen = set()
        for state in states:
            for reason, path, line in state.by:
                if (reason, path, line) not in seen:
                    seen.add((reason, path, line))
                    self.ctx.decide(root.node, "orm", subject, SCOPED if verdict is None else PARTLY, reason,
                                    (path or self.ctx.path, line))
        if verdict is None:
            return
        missing = ", ".join(f"`{m}`" for m in verdict.models)
        if verdict.code == "TL002":
            reason = f"{missing} is narrowed by a condition built elsewhere (opaque)"
        elif seen:
            reason = f"{missing} is left without a tenant filter on some path (the filter above does not cover it)"
        else:
            reason = f"no tenant lookup, scoped manager, scope provider or ownership check for {missing}"
            if self.ctx.module is not None:
                helpers = handed_to(self.ctx.module, root.node)
                if helpers:
                    said = ", ".join(f"`{name}()` (line {line})" for name, line in helpers)
                    reason += (f"; it is handed to {said}, not known to scope it (if it adds the tenant filter, "
                               "list it in scope-providers)")
        if root.escaped:
            reason += "; it runs under scopes_disabled()"
        self.ctx.decide(root.node, "orm", subject, UNVERIFIED if verdict.code == "TL002" else UNSCOPED, reason)

    def _message(self, code: str, models: list[str]) -> str:
        parts = []
        for name in models:
            info = self.ctx.catalog.models.get(name)
            cols = "/".join(sorted(info.tenant_columns)) if info else "tenant"
            if info and not info.tenant_columns and info.extra.get("chain"):
                cols = info.extra["chain"][0][1]  # tenant data through its parent key
            table = f" ({info.table})" if info and info.table else ""
            parts.append((f"`{name}`{table}", cols))
        what = ", ".join(p[0] for p in parts[:_LISTED])
        if len(parts) > _LISTED:  # `self.model` of a base class bound by many subclasses
            what += f" and {len(parts) - _LISTED} more"
        cols = " or ".join(sorted({p[1] for p in parts}))
        if code == "TL202":
            return f"bulk update/delete on {what} without a tenant filter on `{cols}`"
        if code == "TL002":
            return f"{what} is filtered by a condition built elsewhere: its `{cols}` scope cannot be verified"
        return f"{what} is queried without a tenant filter on `{cols}`"


# Django's generic views that query `model` when get_queryset() is not overridden.
_OBJECT_VIEWS = frozenset({
    "ListView", "DetailView", "UpdateView", "DeleteView", "BaseListView", "BaseDetailView", "BaseUpdateView",
    "BaseDeleteView", "MultipleObjectMixin", "SingleObjectMixin", "ArchiveIndexView", "YearArchiveView",
    "MonthArchiveView", "WeekArchiveView", "DayArchiveView", "TodayArchiveView", "DateDetailView",
})


def _is_object_view(qualified: str | None) -> bool:
    return bool(qualified) and qualified.startswith("django.views.generic") \
        and qualified.rsplit(".", 1)[-1] in _OBJECT_VIEWS


def _self_name(fn) -> str | None:
    """The name a method calls its instance (or class) by; None for a static method."""
    if any(call_name(d) == "staticmethod" for d in fn.decorator_list):
        return None
    positional = [*fn.args.posonlyargs, *fn.args.args]
    return positional[0].arg if positional else None


def _within(offsets: list[int], low: int, high: int) -> bool:
    """Does one of the sorted `offsets` fall in [low, high)?"""
    i = bisect_left(offsets, low)
    return i < len(offsets) and offsets[i] < high


def _screen_words(catalog) -> frozenset[str]:
    """Tenant models, classes whose methods may query one through `self.<attribute>`, and
    the project functions whose calls are judged at the call."""
    return _catalog_names(catalog).screen


class _CatalogNames(NamedTuple):
    screen: frozenset[str]
    names: frozenset[str]  # what a statement must name to be followed (but renamed models)
    names_bytes: frozenset[bytes]
    always: frozenset[str]
    always_reads: frozenset[str]


_CATALOG_NAMES: list = [None, None]  # [(models, orm, functions), _CatalogNames]: the last catalog's


def _catalog_names(catalog) -> _CatalogNames:
    """The names every file's checker derives from the catalog, derived once per catalog
    (the summary pass swaps `catalog.functions`: a new one is a new catalog here)."""
    functions = getattr(catalog, "functions", None) or NO_FUNCTIONS
    key = (catalog.models, catalog.orm, functions)
    last = _CATALOG_NAMES[0]
    if last is not None and all(a is b for a, b in zip(last, key)):
        return _CATALOG_NAMES[1]
    names = frozenset(catalog.models) | SHORTCUT_WORDS | functions.words
    found = _CatalogNames(
        screen=frozenset(catalog.models) | frozenset(bound_attributes(catalog.orm)) | functions.words,
        names=names, names_bytes=frozenset(n.encode() for n in names),
        always=frozenset(n for n, o in catalog.orm.items() if o.always_scoped),
        always_reads=frozenset(n for n, o in catalog.orm.items() if o.reads_scoped))
    _CATALOG_NAMES[:] = [key, found]
    return found


def _replaced_querysets(methods) -> set[str]:
    """DRF: class-level fields whose `queryset=` get_fields() or __init__ replaces
    (`fields["labels"].child_relation.queryset = Label.objects.filter(team=team)`): the
    replacement is what runs, judged in that method."""
    out: set[str] = set()
    for fn in methods:
        if fn.name not in ("get_fields", "__init__"):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "queryset":
                    out.update(n.value for n in ast.walk(target)
                               if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return out


def _ignore(states) -> None:
    """A builder's returned query, judged in its callers."""


def _pos(checker: OrmChecker, node) -> tuple[int, int]:
    pos = checker.ctx.positions.get(node)
    return (pos.start.line, pos.start.column) if pos else (0, 0)


def _required(node) -> frozenset[str]:
    """The parameters of a function that have no default."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    return frozenset([a.arg for a in positional[:len(positional) - len(args.defaults)]] +
                     [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None])
