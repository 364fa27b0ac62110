"""Per-file function facts (tenantlint.discover.functions) and the call graph across
modules built on them (tenantlint.callgraph)."""
from __future__ import annotations

import ast
import pickle

from tenantlint.callgraph import MODULE_SCOPE, CallFact, CallGraph, Symbols, call_target
from tenantlint.discover.functions import calls_in, module_functions
from tenantlint.names import ImportMap

REPO = '''from app.models import Doc
from app import helpers as h


class Base:
    def read(self, id):
        return Doc.objects.get(id=id)


class Repo(Base):
    @classmethod
    def make(cls):
        return cls()

    def find(self, id, team=None):
        if team is not None:
            return self.read(id)
        return h.load(id)


def plain(x, *, flag=None):
    repo = Repo()
    repo.find(x)
    Repo().read(x)
    len(x)


plain(1)
'''

HELPERS = '''def load(id):
    return id


def unused():
    pass
'''

VIEWS = '''from app.repo import Repo, plain as run


def view(request):
    run(request.GET["q"])
    return Repo.make().find(1)
'''


def _facts(source: str, rel: str, module: str):
    return module_functions(ast.parse(source), rel, module, source)


def test_functions_methods_classes_and_shapes():
    facts = _facts(REPO, "app/repo.py", "app.repo")
    by_name = {f.name: f for f in facts.functions}
    assert list(by_name) == ["app.repo.plain", "app.repo.Base.read", "app.repo.Repo.make", "app.repo.Repo.find"]
    assert facts.classes == (("app.repo.Base", ()), ("app.repo.Repo", ("app.repo.Base",)))
    find = by_name["app.repo.Repo.find"]
    assert (find.owner, find.params, find.optional, find.returns, find.shaped) == \
        ("app.repo.Repo", ("id", "team"), ("team",), True, True)
    assert (find.line, find.end_line) == (15, 18)
    plain = by_name["app.repo.plain"]
    assert plain.params == ("x",) and plain.optional == () and not plain.returns and not plain.shaped
    assert by_name["app.repo.Repo.make"].is_classmethod and not find.is_classmethod
    assert ("h", "helpers") in facts.renamed


def test_calls_are_qualified_through_imports_self_and_local_instances():
    facts = _facts(REPO, "app/repo.py", "app.repo")
    by_name = {f.name: f for f in facts.functions}
    assert by_name["app.repo.Repo.find"].calls == (CallFact("method", "app.repo.Repo", "read"),
                                                   CallFact("member", "app.helpers", "load"))
    assert by_name["app.repo.plain"].calls == (CallFact("function", "app.repo.Repo"),
                                               CallFact("member", "app.repo.Repo", "find", True),
                                               CallFact("member", "app.repo.Repo", "read", True),
                                               CallFact("function", "len"))
    assert facts.calls == (CallFact("function", "app.repo.plain"),)  # module-level statements


def test_call_graph_across_modules():
    modules = [_facts(REPO, "app/repo.py", "app.repo"), _facts(HELPERS, "app/helpers.py", "app.helpers"),
               _facts(VIEWS, "app/views.py", "app.views")]
    graph = CallGraph(modules)
    assert graph.callees("app.repo.Repo.find") == {"app.repo.Base.read", "app.helpers.load"}
    assert graph.callees("app.repo.plain") == {"app.repo.Repo.find", "app.repo.Base.read"}  # not len()
    assert graph.callees("app.views.view") == {"app.repo.plain", "app.repo.Repo.make", "app.repo.Repo.find"} - \
        {"app.repo.Repo.find"}  # `Repo.make()` returns something unknown: its `.find` is not resolved
    assert graph.callers("app.repo.Base.read") == {"app.repo.Repo.find", "app.repo.plain"}
    assert graph.callers("app.repo.plain") == {f"app.repo.{MODULE_SCOPE}", "app.views.view"}
    assert "app.helpers.unused" not in graph.called()


def test_a_re_exported_class_resolves_to_its_one_definition():
    pkg = _facts("from app.impl import Repo\n", "app/__init__.py", "app")
    impl = _facts("class Repo:\n    def get(self):\n        return 1\n", "app/impl.py", "app.impl")
    user = _facts("import app\n\ndef f():\n    return app.Repo().get()\n", "app/user.py", "app.user")
    symbols = Symbols.of([pkg, impl, user])
    assert symbols.resolve(CallFact("member", "app.Repo", "get", True)) == ("app.impl.Repo.get", "app.impl.Repo", True)
    assert CallGraph([pkg, impl, user], symbols).callees("app.user.f") == {"app.impl.Repo.get"}


def test_a_local_name_stands_for_its_last_assignment_before_the_call():
    tree = ast.parse("def f():\n    r = A()\n    r.go()\n    r = B()\n    r.go()\n")
    imports = ImportMap(tree, "m")
    assert calls_in(tree.body[0].body, imports.qualify, "", None) == (
        CallFact("function", "A"), CallFact("member", "A", "go", True), CallFact("function", "B"),
        CallFact("member", "B", "go", True))


def test_call_target_of_self_needs_a_method():
    call = ast.parse("self.go()").body[0].value
    assert call_target(call, lambda n: "x", "m.C", "self", lambda n: n) == CallFact("method", "m.C", "go")
    assert call_target(call, lambda n: "self", "", None, lambda n: n) == CallFact("member", "self", "go", False)


def test_facts_pickle_and_a_file_without_module_name_keeps_its_calls():
    facts = _facts("def f():\n    g()\n", "odd-dir/x.py", "")
    assert facts.functions == () and facts.calls == (CallFact("function", "g"),)
    assert pickle.loads(pickle.dumps(facts)) == facts


def test_the_catalog_fact_is_packed_and_unpacked_on_first_use():
    from tenantlint.config import Settings
    from tenantlint.discover.functions import FunctionFacts, function_facts

    tree = ast.parse(REPO)
    packed = list(FunctionFacts().discover(tree, "app/repo.py", "app.repo", Settings(), source=REPO))
    assert [type(p).__name__ for p in packed] == ["PackedFunctions"]
    by_path = function_facts([*packed, "another fact"])
    assert list(by_path) == ["app/repo.py"] and "app/repo.py" in by_path and len(by_path) == 1
    assert by_path["app/repo.py"] == _facts(REPO, "app/repo.py", "app.repo")
