"""Names imported from other modules of the project: store handles (TL4xx, TL301) and SQL
string constants (TL1xx), resolved through what the catalog pass records per module."""
from __future__ import annotations

import os
import time

from project_scan import found, write_project
from tenantlint.cache import catalog_fingerprint
from tenantlint.module_index import ModuleNamesFact, NameUseFact, index_modules
from tenantlint.config import load_settings
from tenantlint.discover import build_catalog


ORDERS = 'tenant-tables = ["orders"]\n'


def write(root, files: dict[str, str], config: str = ORDERS) -> None:
    write_project(root, files, config)


# -- handles --------------------------------------------------------------------------
REDIS = {
    "app/__init__.py": "",
    "app/clients.py": """
        import redis

        cache = redis.Redis()
    """,
    "app/views.py": """
        from app.clients import cache
        from . import clients


        def profile(user_id):
            return cache.get(f"user:{user_id}")


        def scoped(tenant_id, user_id):
            return cache.get(f"{tenant_id}:user:{user_id}")


        def through_module(user_id):
            return clients.cache.get(f"user:{user_id}")
    """,
}


def test_imported_handle_is_resolved(tmp_path):
    write(tmp_path, REDIS)
    assert found(tmp_path) == {("app/views.py", 7, "TL401"), ("app/views.py", 15, "TL401")}


def test_imported_handle_when_only_the_importer_is_named(tmp_path):
    write(tmp_path, REDIS)
    assert found(tmp_path, "app/views.py") == {("app/views.py", 7, "TL401"), ("app/views.py", 15, "TL401")}


def test_local_binding_shadows_the_import(tmp_path):
    write(tmp_path, {**REDIS, "app/views.py": """
        from app.clients import cache

        cache = {}


        def profile(user_id):
            return cache.get(f"user:{user_id}")
    """})
    assert found(tmp_path) == set()


def test_import_written_from_a_deeper_root(tmp_path):
    # backend/app/clients.py is module `backend.app.clients`; the code imports `app.clients`.
    write(tmp_path, {f"backend/{rel}": text for rel, text in REDIS.items()})
    assert ("backend/app/views.py", 7, "TL401") in found(tmp_path)


def test_imported_engine_connects_raw(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "",
        "app/db.py": """
            from sqlalchemy import create_engine

            pool = create_engine("postgresql://db/app")
        """,
        "app/report.py": """
            from app.db import pool


            def export():
                with pool.connect() as conn:
                    return conn
        """,
    }, config='allow-raw-connections = ["app/db.py"]\n')
    assert found(tmp_path) == {("app/report.py", 6, "TL301")}


# -- SQL constants ----------------------------------------------------------------------
SQL = {
    "app/__init__.py": "",
    "app/sql.py": """
        BASE = "SELECT id FROM orders"
    """,
    "app/reports.py": """
        from app.sql import BASE


        def scoped(cur, tenant_id):
            cur.execute(BASE + " WHERE tenant_id = %s", (tenant_id,))


        def unscoped(cur):
            cur.execute(BASE + " ORDER BY id")
    """,
}


def test_constant_completed_elsewhere_is_judged_there(tmp_path):
    write(tmp_path, SQL)
    assert found(tmp_path) == {("app/reports.py", 10, "TL101")}


def test_answer_does_not_depend_on_the_files_named(tmp_path):
    write(tmp_path, SQL)
    assert found(tmp_path, "app/sql.py") == set()
    assert found(tmp_path, "app/reports.py") == {("app/reports.py", 10, "TL101")}


def test_constant_used_alone_elsewhere_is_judged_at_its_definition(tmp_path):
    write(tmp_path, {**SQL, "app/export.py": """
        import app.sql


        def everything(cur):
            cur.execute(app.sql.BASE)
    """})
    assert found(tmp_path) == {("app/reports.py", 10, "TL101"), ("app/sql.py", 2, "TL101")}


def test_a_file_whose_uses_cannot_be_read_keeps_the_definition_judged(tmp_path):
    write(tmp_path, {**SQL, "app/broken.py": """
        from app.sql import BASE

        def f(:
            pass
    """})
    assert found(tmp_path, "app/sql.py") == {("app/sql.py", 2, "TL101")}


def test_constant_bound_twice_is_not_shared(tmp_path):
    write(tmp_path, {**SQL, "app/sql.py": """
        import os

        BASE = "SELECT id FROM orders"
        if os.environ.get("X"):
            BASE = "SELECT id, total FROM orders"
    """})
    # Which text the other module sees is unknown: judged at the definitions, as before.
    assert found(tmp_path) == {("app/sql.py", 4, "TL101"), ("app/sql.py", 6, "TL101")}


def test_unparseable_sql_only_file_is_no_catalog_gap(tmp_path):
    # It defines no tables or models: when it is not named, it is not reported.
    write(tmp_path, {**SQL, "app/other.py": 'Q = "SELECT 1"\ndef f(:\n'})
    assert found(tmp_path, "app/reports.py") == {("app/reports.py", 10, "TL101")}


def test_changed_constant_rechecks_its_importers_through_the_cache(tmp_path):
    write(tmp_path, SQL)
    sql = tmp_path / "app" / "sql.py"
    assert found(tmp_path, use_cache=True) == {("app/reports.py", 10, "TL101")}
    sql.write_text('BASE = "SELECT id FROM currencies"\n')  # not a tenant table
    later = time.time() + 5  # a distinct stamp, whatever the file system's clock resolution
    os.utime(sql, (later, later))
    assert found(tmp_path, use_cache=True) == set()
    assert found(tmp_path, use_cache=True) == set()


def test_catalog_fingerprint_follows_shared_constants_only(tmp_path):
    write(tmp_path, {**SQL, "app/unused.py": 'LONELY = "SELECT id FROM orders"\n'})
    settings = load_settings(cwd=tmp_path)
    before = catalog_fingerprint(build_catalog(settings))
    (tmp_path / "app" / "unused.py").write_text('LONELY = "SELECT total FROM orders"\n')
    assert catalog_fingerprint(build_catalog(settings)) == before  # nobody imports it
    (tmp_path / "app" / "sql.py").write_text('BASE = "SELECT total FROM orders"\n')
    assert catalog_fingerprint(build_catalog(settings)) != before


def test_index_keeps_used_constants_and_refuses_ambiguous_suffixes():
    facts = [
        ModuleNamesFact("a/app/sql.py", "a.app.sql", constants=(("BASE", ("SELECT 1",), 1),)),
        ModuleNamesFact("b/app/sql.py", "b.app.sql", constants=(("BASE", ("SELECT 2",), 1),
                                                                 ("OTHER", ("SELECT 3",), 2))),
        NameUseFact("a/app/x.py", folded=("a.app.sql.BASE",)),
    ]
    index = index_modules(facts)
    assert set(index.constants) == {"a.app.sql.BASE"}
    assert index.constant("a.app.sql.BASE").folded
    assert index.constant("app.sql.BASE") is None  # a.app.sql or b.app.sql?
    assert index_modules(facts, every_constant=True).constant("app.sql.OTHER").pieces == ("SELECT 3",)
