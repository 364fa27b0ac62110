"""Receiver resolution: which calls are the library's, and which only look like it."""
from __future__ import annotations

from project_scan import TENANT_ID, lines, scan_project


def codes(tmp_path, source: str, config: str = TENANT_ID) -> list[tuple[int, str]]:
    return lines(scan_project(tmp_path, {"mod.py": source}, config))


def test_parameter_shadows_an_imported_cache(tmp_path):
    assert codes(tmp_path, """
        from django.core.cache import cache

        def f(cache, user_id):
            return cache.get(f"user:{user_id}")
    """) == []


def test_local_rebinding_wins(tmp_path):
    assert codes(tmp_path, """
        import redis

        def f(user_id):
            r = redis.Redis()
            r.get(f"user:{user_id}")
            r = {}
            r.get(f"user:{user_id}")
    """) == [(6, "TL401")]


def test_self_attribute_assigned_in_any_method(tmp_path):
    assert codes(tmp_path, """
        import chromadb

        class Store:
            def search(self, embedding):
                return self.docs.query(query_embeddings=[embedding])

            def __init__(self):
                self.docs = chromadb.Client().get_collection("docs")
    """) == [(6, "TL402")]


def test_boto3_client_for_another_service_is_not_s3(tmp_path):
    assert codes(tmp_path, """
        import boto3

        dynamo = boto3.client("dynamodb")
        s3 = boto3.session.Session().client("s3")

        def f(key):
            dynamo.get_item(TableName="t", Key={"id": key})
            s3.get_object(Bucket="b", Key=key)
    """) == [(9, "TL403")]


def test_unknown_receiver_needs_a_distinctive_method_and_the_import(tmp_path):
    assert codes(tmp_path, """
        import redis

        def f(client, user_id):
            client.get(f"user:{user_id}")
            client.setex(f"user:{user_id}", 60, "x")
    """) == [(6, "TL401")]
    assert codes(tmp_path, """
        def f(client, user_id):
            client.setex(f"user:{user_id}", 60, "x")
    """) == []


def test_sqlite_memory_uri_and_allow_globs(tmp_path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "layer.py").write_text("import psycopg2\nconn = psycopg2.connect('')\n")
    found = codes(tmp_path, """
        import sqlite3
        a = sqlite3.connect("file::memory:?cache=shared", uri=True)
        b = sqlite3.connect("data.db")
    """, config='allow-raw-connections = ["db/**"]\n')
    assert found == [(4, "TL301")]
