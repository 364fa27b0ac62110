"""Handles returned by the project's own factories: a function or method whose return
annotation names a catalog class (or a team's configured wrapper class) returns that
handle, in its own module and, through the catalog's module index, in others."""
from __future__ import annotations

import ast
import textwrap

import pytest

from project_scan import TENANT_ID, located, scan_project
from tenantlint.config import settings_from_mapping
from tenantlint.context import FileContext
from tenantlint.stores.handles import module_handles


def scan(root, files: dict[str, str], config: str = TENANT_ID, paths=(".",)):
    return sorted(located(scan_project(root, files, config, paths=paths)))


@pytest.mark.parametrize("annotation", [
    "Redis", '"Redis"', "redis.asyncio.Redis", '"redis.asyncio.Redis"', "Optional[Redis]",
    "Redis | None", "Union[None, Redis]", 'Optional["Redis"]', "Annotated[Redis, 'cache']",
])
def test_return_annotation_forms(tmp_path, annotation):
    assert scan(tmp_path, {"mod.py": f"""
        from typing import Annotated, Optional, Union

        import redis.asyncio
        from redis.asyncio import Redis

        async def get_client() -> {annotation}:
            return Redis()

        async def f(run_id):
            c = await get_client()
            await c.get(f"run:{{run_id}}")
    """}) == [("mod.py", 12, "TL401")]


@pytest.mark.parametrize("annotation", ["dict", "Optional[dict]", "Union[Redis, dict]", "list[Redis]", "'not valid ('"])
def test_other_annotations_are_not_handles(tmp_path, annotation):
    assert scan(tmp_path, {"mod.py": f"""
        from typing import Optional, Union

        from redis import Redis

        def get_client() -> {annotation}:
            return Redis()

        def f(run_id):
            get_client().get(f"run:{{run_id}}")
    """}) == []


def test_methods_properties_and_shadowing(tmp_path):
    assert scan(tmp_path, {"mod.py": """
        import redis

        def make() -> redis.Redis:
            return redis.Redis()

        class Store:
            def client(self) -> redis.Redis:
                return redis.Redis()

            @property
            def conn(self) -> redis.Redis:
                return redis.Redis()

            @conn.setter
            def conn(self, value): pass

            def a(self, k):
                self.client().get(f"user:{k}")
                self.conn.get(f"user:{k}")
                self.client.get(f"user:{k}")  # the method itself, not a client

        def b(k, make):
            return make().get(f"user:{k}")  # a parameter named like the factory

        def c(k):
            return make().get(f"user:{k}")
    """}) == [("mod.py", 19, "TL401"), ("mod.py", 20, "TL401"), ("mod.py", 27, "TL401")]


def test_context_manager_factory(tmp_path):
    assert scan(tmp_path, {"mod.py": """
        from contextlib import contextmanager
        from typing import Iterator

        import redis

        @contextmanager
        def conn() -> Iterator[redis.Redis]:
            yield redis.Redis()

        def plain() -> Iterator[redis.Redis]:
            yield redis.Redis()

        def f(k):
            with conn() as r:
                r.get(f"user:{k}")
            for r in plain():
                r.get(f"user:{k}")  # not followed: a for target is not a handle
    """}) == [("mod.py", 16, "TL401")]


FACTORY = {
    "app/__init__.py": "",
    "app/clients.py": """
        from redis.asyncio import Redis

        async def get_redis() -> Redis:
            return Redis()
    """,
    "app/jobs.py": """
        from app.clients import get_redis
        from app import clients

        async def lock(job_id):
            r = await get_redis()
            await r.set(f"lock:{job_id}", 1)

        async def lock_for(tenant_id, job_id):
            r = await clients.get_redis()
            await r.set(f"tenant:{tenant_id}:lock:{job_id}", 1)
            await r.set(f"lock:{job_id}", 1)
    """,
}


def test_factory_imported_from_another_module(tmp_path):
    expected = [("app/jobs.py", 7, "TL401"), ("app/jobs.py", 12, "TL401")]
    assert scan(tmp_path, FACTORY) == expected
    # The answer for a file does not depend on which files are named (pre-commit).
    assert scan(tmp_path, FACTORY, paths=("app/jobs.py",)) == expected


def test_module_handles_records_factories(tmp_path):
    source = textwrap.dedent("""
        import redis

        cache = redis.Redis()

        def get_cache() -> redis.Redis:
            return cache

        def helper() -> int:
            return 1

        def twice() -> redis.Redis:
            return cache

        twice = None
    """)
    settings = settings_from_mapping({}, root=tmp_path)
    ctx = FileContext(path="app/clients.py", source=source, settings=settings, catalog=None,
                      module=ast.parse(source), module_name="app.clients")
    assert sorted(module_handles(ctx)) == [("cache", "redis", False), ("get_cache", "returns:redis", False)]


CONFIGURED = {
    "app/__init__.py": "",
    "app/cache.py": """
        class Cache:
            async def get(self, key):
                return None

        _cache = Cache()

        async def get_cache() -> Cache:
            return _cache

        async def here(agent_id):
            c = await get_cache()
            return await c.get(f"run:{agent_id}")
    """,
    "app/use.py": """
        from app.cache import Cache, get_cache

        async def a(agent_id):
            c = await get_cache()
            return await c.get(f"run:{agent_id}")

        async def b(agent_id, c: Cache):
            return await c.get(f"run:{agent_id}")

        async def scoped(tenant_id, agent_id):
            c = await get_cache()
            return await c.get(f"{tenant_id}:run:{agent_id}")
    """,
}


def test_factory_of_a_configured_wrapper_class(tmp_path):
    config = 'tenant-columns = ["tenant_id"]\n[caches]\n"app.cache.Cache.get" = { key = "0|key" }\n'
    assert scan(tmp_path, CONFIGURED, config) == [
        ("app/cache.py", 13, "TL401"), ("app/use.py", 6, "TL401"), ("app/use.py", 9, "TL401")]
    # Without the config entry the class is unknown: nothing to check.
    assert scan(tmp_path, CONFIGURED) == []
