"""An awaited handle is judged everywhere the sync form is: each case below is written
twice, sync and async, and both must give the same findings on the same lines."""
from __future__ import annotations

import pytest

from project_scan import lines, scan_project

CONFIG = 'tenant-columns = ["tenant_id"]\n'


def codes(tmp_path, source: str) -> list[tuple[int, str]]:
    return lines(scan_project(tmp_path, {"mod.py": source}, CONFIG))


# (name, sync source, async source, findings): the two sources keep their lines aligned.
CASES = [
    ("client", """
        import redis
        r = redis.Redis()
        def f(tenant_id, k):
            r.get(f"tenant:{tenant_id}:{k}")
            return r.get(f"user:{k}")
    """, """
        import redis.asyncio
        r = redis.asyncio.Redis()
        async def f(tenant_id, k):
            await r.get(f"tenant:{tenant_id}:{k}")
            return await r.get(f"user:{k}")
    """, [(6, "TL401")]),
    ("pipeline in with", """
        import redis
        def f(tenant_id, k):
            r = redis.Redis()
            with r.pipeline() as p:
                p.set(f"tenant:{tenant_id}:{k}", 1)
                p.set(f"user:{k}", 1)
    """, """
        import redis.asyncio as aioredis
        async def f(tenant_id, k):
            r = aioredis.from_url("redis://")
            async with r.pipeline() as p:
                await p.set(f"tenant:{tenant_id}:{k}", 1)
                await p.set(f"user:{k}", 1)
    """, [(7, "TL401")]),
    ("scan in for", """
        import redis
        r = redis.Redis()
        def f(tenant_id):
            for key in r.scan_iter(match=f"tenant:{tenant_id}:*"):
                r.delete(key)
            for key in r.scan_iter(match="user:*"):
                r.delete(key)
    """, """
        import redis.asyncio
        r = redis.asyncio.Redis()
        async def f(tenant_id):
            async for key in r.scan_iter(match=f"tenant:{tenant_id}:*"):
                await r.delete(key)
            async for key in r.scan_iter(match="user:*"):
                await r.delete(key)
    """, [(7, "TL401")]),
    ("keys listed, then used", """
        import redis
        r = redis.Redis()
        def f(tenant_id):
            for key in r.keys(f"tenant:{tenant_id}:*"):
                r.delete(key)
            keys = r.keys(f"tenant:{tenant_id}:*")
            r.delete(*keys)
    """, """
        import redis.asyncio
        r = redis.asyncio.Redis()
        async def f(tenant_id):
            for key in await r.keys(f"tenant:{tenant_id}:*"):
                await r.delete(key)
            keys = await r.keys(f"tenant:{tenant_id}:*")
            await r.delete(*keys)
    """, []),
    ("factory function", """
        import redis
        def client() -> redis.Redis:
            return redis.Redis()
        def f(k):
            c = client()
            return c.get(f"user:{k}")
    """, """
        import redis.asyncio
        async def client() -> redis.asyncio.Redis:
            return redis.asyncio.Redis()
        async def f(k):
            c = await client()
            return await c.get(f"user:{k}")
    """, [(7, "TL401")]),
    ("factory called inline", """
        import redis
        def client() -> redis.Redis:
            return redis.Redis()
        def f(k):
            return client().get(f"user:{k}")
    """, """
        import redis.asyncio
        async def client() -> redis.asyncio.Redis:
            return redis.asyncio.Redis()
        async def f(k):
            return await (await client()).get(f"user:{k}")
    """, [(6, "TL401")]),
    ("factory method", """
        import redis
        class Store:
            def client(self) -> redis.Redis:
                return redis.Redis()
            def f(self, k):
                c = self.client()
                return c.get(f"user:{k}")
    """, """
        import redis.asyncio
        class Store:
            async def client(self) -> redis.asyncio.Redis:
                return redis.asyncio.Redis()
            async def f(self, k):
                c = await self.client()
                return await c.get(f"user:{k}")
    """, [(8, "TL401")]),
    ("self attribute set from a factory", """
        import redis
        class Store:
            def __init__(self):
                self.r = redis.Redis()
            def f(self, k):
                return self.r.get(f"user:{k}")
    """, """
        import redis.asyncio
        class Store:
            async def start(self):
                self.r = await redis.asyncio.from_url("redis://")
            async def f(self, k):
                return await self.r.get(f"user:{k}")
    """, [(7, "TL401")]),
    ("key built by an awaited helper", """
        import redis
        r = redis.Redis()
        def f(k):
            key = tenant_key(k)
            return r.get(key)
    """, """
        import redis.asyncio
        r = redis.asyncio.Redis()
        async def f(k):
            key = await tenant_key(k)
            return await r.get(key)
    """, []),
    ("pinecone index", """
        from pinecone import Pinecone
        def f(tenant_id, v):
            with Pinecone().Index(host="h") as index:
                index.query(vector=v, top_k=3, namespace=tenant_id)
                return index.query(vector=v, top_k=3)
    """, """
        from pinecone import PineconeAsyncio
        async def f(tenant_id, v):
            async with PineconeAsyncio().IndexAsyncio(host="h") as index:
                await index.query(vector=v, top_k=3, namespace=tenant_id)
                return await index.query(vector=v, top_k=3)
    """, [(6, "TL402")]),
    ("weaviate tenant handle", """
        import weaviate
        def f(tenant_id, v):
            client = weaviate.connect_to_local()
            docs = client.collections.get("Docs")
            docs.with_tenant(tenant_id).query.near_vector(v)
            return docs.query.near_vector(v)
    """, """
        import weaviate
        async def f(tenant_id, v):
            client = weaviate.use_async_with_local()
            docs = client.collections.get("Docs")
            await docs.with_tenant(tenant_id).query.near_vector(v)
            return await docs.query.near_vector(v)
    """, [(7, "TL402")]),
    ("s3 client", """
        import boto3
        def f(tenant_id, name):
            s3 = boto3.Session().client("s3")
            s3.get_object(Bucket="b", Key=f"{tenant_id}/{name}")
            return s3.get_object(Bucket="b", Key=name)
    """, """
        import aioboto3
        async def f(tenant_id, name):
            async with aioboto3.Session().client("s3") as s3:
                await s3.get_object(Bucket="b", Key=f"{tenant_id}/{name}")
                return await s3.get_object(Bucket="b", Key=name)
    """, [(6, "TL403")]),
    ("django cache", """
        from django.core.cache import cache
        def f(tenant_id, k):
            cache.get(f"tenant:{tenant_id}:{k}")
            return cache.get(f"user:{k}")
    """, """
        from django.core.cache import cache
        async def f(tenant_id, k):
            await cache.aget(f"tenant:{tenant_id}:{k}")
            return await cache.aget(f"user:{k}")
    """, [(5, "TL401")]),
    ("kwargs dict", """
        from pinecone import Pinecone
        index = Pinecone().Index("docs")
        def f(tenant_id, v):
            kwargs = {"namespace": tenant_id}
            index.query(vector=v, **kwargs)
            return index.query(vector=v, **{"top_k": 3})
    """, """
        from pinecone import PineconeAsyncio
        index = PineconeAsyncio().IndexAsyncio(host="h")
        async def f(tenant_id, v):
            kwargs = {"namespace": tenant_id}
            await index.query(vector=v, **kwargs)
            return await index.query(vector=v, **{"top_k": 3})
    """, [(7, "TL402")]),
    ("engine connections", """
        from sqlalchemy import create_engine
        engine = create_engine("postgresql://")
        def f():
            with engine.connect() as conn:
                return conn
    """, """
        from sqlalchemy.ext.asyncio import create_async_engine
        engine = create_async_engine("postgresql+asyncpg://")
        async def f():
            async with engine.connect() as conn:
                return conn
    """, [(3, "TL301"), (5, "TL301")]),
    ("driver connections", """
        import psycopg
        def f():
            with psycopg.connect("") as conn:
                return conn
    """, """
        import asyncpg
        async def f():
            async with asyncpg.create_pool("") as pool:
                return pool
    """, [(4, "TL301")]),
]


@pytest.mark.parametrize("name, sync, async_, expected", CASES, ids=[c[0] for c in CASES])
def test_async_form_is_judged_like_the_sync_form(tmp_path, name, sync, async_, expected):
    (tmp_path / "sync").mkdir()
    (tmp_path / "async").mkdir()
    assert codes(tmp_path / "sync", sync) == expected
    assert codes(tmp_path / "async", async_) == expected
