"""The API catalog: packs load and validate, config tables extend them, bad entries fail
closed with a message naming the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from tenantlint.packs import (ArgRef, PackError, _builtin, build_api_catalog, api_catalog_for, load_pack_files,
                             packs_dir)
from tenantlint.checked_settings import check_settings
from tenantlint.config import ConfigError, Settings, settings_from_mapping

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"


def test_builtin_packs_load():
    catalog = build_api_catalog(_builtin())
    assert catalog.constructor("redis.Redis")[0].returns == "redis"
    assert catalog.calls_on("redis", "setex")[0].role == "cache"
    assert catalog.function_calls("psycopg2.connect")[0].role == "connect"
    assert catalog.objects["django.core.cache.cache"] == "django-cache"


@pytest.mark.parametrize("pack", [name for name, _ in load_pack_files(packs_dir())])
def test_each_pack_has_fixtures(pack):
    """A new library is a pack plus fixtures: every pack's import names appear in a fixture."""
    data = dict(load_pack_files(packs_dir()))[pack]
    modules = data.get("library", {}).get("imports", [])
    if not modules:
        return  # shared kinds only (dbapi)
    sources = "\n".join(p.read_text() for p in FIXTURES.rglob("*.py")
                        if p.parts[-3].startswith(("stores_", "connections", "memo_")) or
                        any(part.startswith(("stores_", "connections", "memo_")) for part in p.parts))
    assert any(f"import {m}" in sources or f"from {m}" in sources for m in modules), pack


def test_argref_parsing():
    assert ArgRef.parse("0|name", "t") == ArgRef(0, "name")
    assert ArgRef.parse("1|Params.Key", "t") == ArgRef(1, "Params", ("Key",))
    assert ArgRef.parse("*", "t").every
    assert ArgRef.parse(2, "t") == ArgRef(position=2)
    with pytest.raises(ValueError):
        ArgRef.parse("0|bad name", "t")


def test_bad_pack_is_a_pack_error():
    with pytest.raises(PackError, match="role"):
        build_api_catalog([("broken", {"kinds": {"k": {}}, "calls": [{"on": "k", "methods": ["get"], "role": "nope"}]})])
    with pytest.raises(PackError, match="unknown kind"):
        build_api_catalog([("broken", {"kinds": {"k": {"methods": {"x": "missing"}}}})])
    with pytest.raises(PackError, match="unknown field"):
        build_api_catalog([("broken", {"kinds": {"k": {"form": ["a.b"]}}})])


def test_config_tables_extend_the_catalog(tmp_path):
    settings = settings_from_mapping({
        "sinks": {"db.fetch_all": 0},
        "caches": {"acme.cache_get": 0, "acme.Cache.fetch": {"key": "0|key"}},
        "connections": {"acme.db.open_raw": True},
        "vector-stores": {"acme.search": {"filter": ["filters"]}, "acme.index": {"write": True, "tags": ["1"]}},
        "object-stores": {"acme.put": "path"},
    }, root=tmp_path)
    catalog = api_catalog_for(settings)
    assert catalog.function_calls("app.db.fetch_all")[0].role == "sql"
    assert catalog.function_calls("pkg.acme.cache_get")[0].key == ArgRef(position=0)
    assert catalog.function_calls("acme.index")[0].role == "vector-write"
    assert catalog.function_calls("acme.put")[0].key == ArgRef(keyword="path")
    assert catalog.constructor("acme.Cache")[0].returns == "config:acme.Cache"
    assert catalog.calls_on("config:acme.Cache", "fetch")[0].role == "cache"
    assert ("db.fetch_all", catalog.configured["db.fetch_all"][0]) in catalog.sql_sinks()
    assert not catalog.function_calls("other.fetch_all_things")


@pytest.mark.parametrize("table, entry, message", [
    ("caches", {"acme.cache_get": {"kee": 0}}, "caches.acme.cache_get`: unknown field(s) `kee`"),
    ("caches", {"acme.cache_get": {}}, "needs one of key"),
    ("sinks", {"db.fetch_all": {"sql": "0|bad name"}}, "bad argument reference"),
    ("vector-stores", {"acme.search": 3}, "expected a table"),
    ("connections", {"not a name": True}, "dotted name"),
    ("object-stores", {"acme.put": {"key": 0, "role": "cache"}}, "unknown field `role`"),
])
def test_bad_config_entry_is_a_config_error(tmp_path, table, entry, message):
    with pytest.raises(ConfigError) as info:
        check_settings(settings_from_mapping({table: entry}, root=tmp_path), "tenantlint.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("tenantlint.toml: `")


def test_default_settings_have_no_config_entries():
    assert not api_catalog_for(Settings()).configured
