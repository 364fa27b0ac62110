"""Per-file function facts (tenantlint.discover.functions) and the call graph across
modules built on them (tenantlint.callgraph)."""
from __future__ import annotations

import ast
import pickle

from tenantlint.callgraph import MODULE_SCOPE, CallFact, CallGraph, Symbols, call_target, reexported
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
    # the functions, and what each call site passes (tenantlint/discover/call_sites.py)
    assert [type(p).__name__ for p in packed] == ["PackedFunctions", "PackedCallSites"]
    by_path = function_facts([*packed, "another fact"])
    assert list(by_path) == ["app/repo.py"] and "app/repo.py" in by_path and len(by_path) == 1
    assert by_path["app/repo.py"] == _facts(REPO, "app/repo.py", "app.repo")


SERVER = '''from app.managers import AgentManager, Blocks


class Server:
    blocks: Blocks

    def __init__(self, tools: "app.managers.Tools"):
        self.agents = AgentManager()
        self.tools = tools
        self.name = str(1)

    def run(self):
        return self.agents.list_agents()
'''

MANAGERS = '''class AgentManager:
    def list_agents(self):
        return []


class Blocks:
    def get(self):
        return 1


class Tools:
    def all(self):
        return []
'''

ROUTES = '''from typing import Annotated, Optional

from fastapi import Depends

from app.server import Server


def get_server():
    return Server()


async def list_agents(server: Server = Depends(get_server)):
    return server.agents.list_agents()


async def read_block(server: "Server" = Depends(get_server)):
    return server.blocks.get()


async def tools(server: Annotated[Server, Depends(get_server)], other: Optional[Server] = None):
    return server.tools.all(), other.run()


async def unknown(server=Depends(get_server)):
    return server.agents.list_agents(), server.nothing.get()
'''


def test_calls_through_annotated_parameters_and_attribute_types():
    server = _facts(SERVER, "app/server.py", "app.server")
    assert set(server.attributes) == {("app.server.Server", "blocks", "app.managers.Blocks"),
                                      ("app.server.Server", "agents", "app.managers.AgentManager"),
                                      ("app.server.Server", "tools", "app.managers.Tools")}  # not `str(1)`
    routes = _facts(ROUTES, "app/routes.py", "app.routes")
    by_name = {f.name: f for f in routes.functions}
    assert CallFact("attr", "app.server.Server", "agents.list_agents") in by_name["app.routes.list_agents"].calls
    graph = CallGraph([server, _facts(MANAGERS, "app/managers.py", "app.managers"), routes])
    assert graph.callees("app.server.Server.run") == {"app.managers.AgentManager.list_agents"}
    assert graph.callees("app.routes.list_agents") == {"app.managers.AgentManager.list_agents"}
    assert graph.callees("app.routes.read_block") == {"app.managers.Blocks.get"}  # a string annotation
    assert graph.callees("app.routes.tools") == {"app.managers.Tools.all", "app.server.Server.run"}
    assert graph.callees("app.routes.unknown") == set()  # no annotation: nothing to go by


def test_summaries_keep_resolving_without_attribute_types():
    call = ast.parse("server.agents.list_agents()").body[0].value
    fact = call_target(call, lambda n: None, "", None, lambda n: n)
    assert fact is None or fact.kind != "attr"  # no `annotated`: calls are judged as before


def test_summaries_do_not_resolve_calls_through_annotations():
    """The summary index (FunctionIndex) has no attribute types: a call through an
    annotated parameter counts as no call into a summarized helper, so a helper called
    only so is still judged in its body."""
    from tenantlint.callgraph import resolve
    from tenantlint.orm.summaries import FunctionIndex

    index = FunctionIndex(defined=frozenset({"app.managers.Blocks.get"}), classes={"app.managers.Blocks": ()})
    assert resolve(CallFact("attr", "app.managers.Blocks", "get"), index) is None


GIT_MANAGERS = '''from app.managers import AgentManager


class GitAgentManager(AgentManager):
    def list_agents(self):
        return super().list_agents()


class Holder:
    def __init__(self, agents=None, git=False):
        self.agents = agents or GitAgentManager()


holder = Holder()
plain = AgentManager()
'''

USES = '''from app.git import holder, plain


def via_module_instances():
    return holder.agents.list_agents(), plain.list_agents()
'''


def test_super_calls_and_module_level_instances():
    modules = [_facts(MANAGERS, "app/managers.py", "app.managers"), _facts(GIT_MANAGERS, "app/git.py", "app.git"),
               _facts(USES, "app/uses.py", "app.uses")]
    graph = CallGraph(modules)
    assert graph.callees("app.git.GitAgentManager.list_agents") == {"app.managers.AgentManager.list_agents"}
    assert graph.callees("app.uses.via_module_instances") == {"app.git.GitAgentManager.list_agents",
                                                              "app.managers.AgentManager.list_agents"}


CLIENTS = '''class RedisClient:
    async def acquire_lock(self, key):
        return key


async def get_client() -> "RedisClient":
    return RedisClient()


def untyped():
    return RedisClient()
'''

LOCKS = '''from app.clients import get_client, untyped


async def lock(key):
    client = await get_client()
    other = untyped()
    return await client.acquire_lock(key), other.acquire_lock(key)
'''


def test_a_function_annotated_to_return_a_class_gives_its_result_the_class():
    modules = [_facts(CLIENTS, "app/clients.py", "app.clients"), _facts(LOCKS, "app/locks.py", "app.locks")]
    assert {f.name: f.returns_type for f in modules[0].functions}["app.clients.get_client"] == "app.clients.RedisClient"
    assert CallGraph(modules).callees("app.locks.lock") == {"app.clients.get_client", "app.clients.untyped",
                                                            "app.clients.RedisClient.acquire_lock"}


def test_a_class_imported_from_another_library_is_not_the_project_class_of_that_name():
    """`from rest_framework.viewsets import ModelViewSet` beside the project's own
    `ModelViewSet`: the base stays DRF's (no inherited method of the project's class);
    a re-export through a package (`from core import Scoped`, defined in
    `label_studio.core.viewsets`) still resolves."""
    classes = {"label_studio.core.viewsets.ModelViewSet": ("rest_framework.viewsets.ModelViewSet",),
               "label_studio.core.viewsets.Scoped": (),
               "label_studio.tracker.views.A": ("rest_framework.viewsets.ModelViewSet",),
               "label_studio.tracker.views.B": ("core.Scoped",)}
    fixed, unique = reexported(classes)
    assert fixed["label_studio.tracker.views.A"] == ("rest_framework.viewsets.ModelViewSet",)
    assert fixed["label_studio.tracker.views.B"] == ("label_studio.core.viewsets.Scoped",)
    symbols = Symbols(frozenset(), fixed, unique)
    assert symbols.cls("rest_framework.viewsets.ModelViewSet") is None
    assert symbols.cls("core.viewsets.ModelViewSet") == "label_studio.core.viewsets.ModelViewSet"
