"""Tenant collections, indexes and labels: discovered from the project's own writes and
filters, across files, cached with the other catalog facts."""
from __future__ import annotations

import textwrap

from project_scan import found, write_project
from tenantlint.config import load_settings
from tenantlint.discover import build_catalog

WRITER = """
    from pymongo import MongoClient

    db = MongoClient().app

    def add(tenant_id, title):
        db.notes.insert_one({"tenant_id": tenant_id, "title": title})
"""
READER = """
    from pymongo import MongoClient

    notes = MongoClient()["app"]["notes"]

    def get(note_id):
        return notes.find_one({"_id": note_id})
"""


def test_a_write_in_one_module_makes_a_tenant_collection_for_another(tmp_path):
    write_project(tmp_path, {"app/writer.py": WRITER, "app/reader.py": READER})
    assert found(tmp_path) == {("app/reader.py", 7, "TL405")}
    # the answer for a file does not depend on which files were named
    assert found(tmp_path, "app/reader.py") == {("app/reader.py", 7, "TL405")}


def test_without_tenant_evidence_a_collection_is_not_judged(tmp_path):
    write_project(tmp_path, {"app/reader.py": READER})
    assert found(tmp_path) == set()


def test_tenant_tables_and_global_tables(tmp_path):
    write_project(tmp_path, {"app/reader.py": READER}, 'tenant-tables = ["notes"]\n')
    assert found(tmp_path) == {("app/reader.py", 7, "TL405")}
    write_project(tmp_path, {"app/writer.py": WRITER, "app/reader.py": READER}, 'global-tables = ["notes"]\n')
    assert found(tmp_path) == set()


def test_catalog_records_where_each_collection_comes_from(tmp_path):
    write_project(tmp_path, {
        "app/writer.py": WRITER,
        "app/search.py": """
            from elasticsearch import Elasticsearch

            es = Elasticsearch()

            def find(tenant_id, q):
                return es.search(index="docs", query={"bool": {"filter": [{"term": {"tenant_id": tenant_id}}]}})
        """,
        "app/graph.py": """
            from neo4j import GraphDatabase

            driver = GraphDatabase.driver("neo4j://x")

            def add(tenant_id):
                driver.execute_query("MERGE (e:Entity {tenant_id: $t})", t=tenant_id)
        """,
    })
    catalog = build_catalog(load_settings(cwd=tmp_path))
    facts = {name: (fact.kind, fact.path, fact.how) for name, fact in catalog.collections.items()}
    assert facts == {"notes": ("collection", "app/writer.py", "written"),
                     "docs": ("index", "app/search.py", "filtered"),
                     "entity": ("label", "app/graph.py", "filtered")}
    assert catalog.is_tenant_collection("Entity") and "entity" in catalog.tenant_labels()


def test_discovery_is_cached_and_follows_edits(tmp_path):
    write_project(tmp_path, {"app/writer.py": WRITER, "app/reader.py": READER})
    assert found(tmp_path, use_cache=True) == {("app/reader.py", 7, "TL405")}
    assert found(tmp_path, use_cache=True) == {("app/reader.py", 7, "TL405")}  # from the cache
    (tmp_path / "app/writer.py").write_text(textwrap.dedent(WRITER).replace('"tenant_id": tenant_id, ', ""))
    assert found(tmp_path, use_cache=True) == set()


def test_a_collection_handle_imported_from_another_module(tmp_path):
    write_project(tmp_path, {
        "app/__init__.py": "",
        "app/db.py": """
            from pymongo import MongoClient

            notes = MongoClient().app.notes
        """,
        "app/writer.py": """
            from app.db import notes

            def add(tenant_id, title):
                notes.insert_one({"tenant_id": tenant_id, "title": title})
        """,
        "app/reader.py": """
            from app import db
            from app.db import notes

            def get(note_id):
                return notes.find_one({"_id": note_id})

            def count():
                return db.notes.count_documents({})
        """,
    })
    assert found(tmp_path) == {("app/reader.py", 6, "TL405"), ("app/reader.py", 9, "TL405")}


def test_a_database_passed_in_names_its_collections(tmp_path):
    write_project(tmp_path, {"app/repo.py": """
        import pymongo

        class Repo:
            def __init__(self, db):
                self.notes = db["notes"]

            def add(self, tenant_id, title):
                self.notes.insert_one({"tenant_id": tenant_id, "title": title})

            def get(self, note_id):
                return self.notes.find_one({"_id": note_id})
    """})
    assert found(tmp_path) == {("app/repo.py", 12, "TL405")}


def test_a_label_listed_in_tenant_tables(tmp_path):
    write_project(tmp_path, {"app/graph.py": """
        from neo4j import GraphDatabase

        driver = GraphDatabase.driver("neo4j://x")

        def everything():
            return driver.execute_query("MATCH (m:Memory) RETURN m")

        def mine(tenant_id):
            return driver.execute_query("MERGE (m:Memory {tenant_id: $t}) RETURN m", t=tenant_id)
    """}, 'tenant-tables = ["Memory"]\n')
    assert found(tmp_path) == {("app/graph.py", 7, "TL406")}
