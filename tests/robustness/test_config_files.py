"""A config that cannot be read, or whose values would switch checks off, is an error
(exit 2, one line naming the file and what is wrong), never a silently smaller scan."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from clihelp import run  # noqa: E402

LEAK = 'def f(cur):\n    cur.execute("DELETE FROM orders")\n'


def _project(tmp_path: Path, config_name: str, config: bytes | str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.py").write_text(LEAK)
    data = config.encode() if isinstance(config, str) else config
    (tmp_path / config_name).write_bytes(data)
    return tmp_path


def _one_line_error(result, *needles: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_pyproject_that_does_not_parse_is_an_error_not_skipped(tmp_path):
    root = _project(tmp_path, "pyproject.toml", '[tool.tenantlint]\ntenant-tables = ["orders"\n')
    _one_line_error(run(["scan", "."], root), "pyproject.toml", "line 2")


def test_broken_pyproject_higher_up_is_an_error_too(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tenantlint\ntenant-tables = ["orders"]\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.py").write_text(LEAK)
    _one_line_error(run(["scan", "."], sub), str(tmp_path / "pyproject.toml"), "line 1")


@pytest.mark.parametrize("name, body", [
    ("pyproject.toml", '[tool.tenantlint]\ntenant-tables = ["orders"]\n'),
    ("tenantlint.toml", 'tenant-tables = ["orders"]\n'),
])
def test_a_byte_order_mark_is_accepted(tmp_path, name, body):
    root = _project(tmp_path, name, b"\xef\xbb\xbf" + body.encode())
    result = run(["scan", "--no-cache", "--format", "json", "."], root)
    assert result.exit_code == 1, result.stderr
    assert {(d["path"], d["code"]) for d in json.loads(result.stdout)["diagnostics"]} == {("a.py", "TL101")}


def test_config_that_is_not_utf8_names_the_line(tmp_path):
    root = _project(tmp_path, "tenantlint.toml", b'tenant-tables = ["orders"]\n# caf\xe9\n')
    _one_line_error(run(["scan", "."], root), "tenantlint.toml", "line 2")


def test_deeply_nested_toml_on_the_walk_up_is_one_line(tmp_path):
    # no [tool.tenantlint] in it: it is still read to find out
    root = _project(tmp_path, "pyproject.toml", "x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    _one_line_error(run(["scan", "."], root), "pyproject.toml", "nested too deeply")


def test_deeply_nested_json_baseline_is_one_line(tmp_path):
    root = _project(tmp_path, "tenantlint.toml", 'tenant-tables = ["orders"]\n')
    (root / "baseline.json").write_text("[" * 100_000 + "]" * 100_000)
    _one_line_error(run(["scan", "--baseline", "baseline.json", "."], root), "baseline.json", "nested too deeply")


@pytest.mark.parametrize("setting, key", [
    ('tenant-columns = [""]', "tenant-columns"),
    ('tenant-columns = ["tenant_id", "  "]', "tenant-columns"),
    ('tenant-columns = ["tenant id"]', "tenant-columns"),
    ('global-key-prefixes = [""]', "global-key-prefixes"),
    ('scope-providers = [""]', "scope-providers"),
    ('exclude = [""]', "exclude"),
    ('global-tables = [""]', "global-tables"),
    ('sinks = { "app.db.fetch" = -1 }', "sinks.app.db.fetch"),
    ('sinks = { "app.db.fetch" = 1000000 }', "sinks.app.db.fetch"),
    ('sinks = { "app.db.fetch" = "99999|sql" }', "sinks.app.db.fetch"),
    ('caches = { "app.cache.get" = { key = -1 } }', "caches.app.cache.get"),
    ('vector-stores = { "app.vec.search" = { namespace = [-2] } }', "vector-stores.app.vec.search"),
])
def test_values_that_would_switch_checks_off_are_errors(tmp_path, setting, key):
    root = _project(tmp_path, "tenantlint.toml", f'tenant-tables = ["orders"]\n{setting}\n')
    _one_line_error(run(["scan", "."], root), "tenantlint.toml", f"`{key}")


def test_a_sane_argument_position_is_still_accepted(tmp_path):
    root = _project(tmp_path, "tenantlint.toml", 'tenant-tables = ["orders"]\nsinks = { "app.db.fetch" = 3 }\n')
    assert run(["scan", "--no-cache", "."], root).exit_code == 1


@pytest.mark.parametrize("name", ["TENANTLINT_FILE_TIMEOUT", "TENANTLINT_FILE_MEMORY_MB"])
@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "1e999"])
def test_bad_limits_in_the_environment_are_errors(tmp_path, name, value):
    root = _project(tmp_path, "tenantlint.toml", 'tenant-tables = ["orders"]\n')
    _one_line_error(run(["scan", "--no-cache", "."], root, env={name: value}), name)


def test_empty_limit_is_the_default(tmp_path):
    root = _project(tmp_path, "tenantlint.toml", 'tenant-tables = ["orders"]\n')
    assert run(["scan", "--no-cache", "."], root, env={"TENANTLINT_FILE_TIMEOUT": ""}).exit_code == 1


@pytest.mark.parametrize("position", [-1, 256, "1000000|sql"])
def test_pack_argument_positions_out_of_range_are_pack_errors(position):
    from tenantlint.packs import PackError, build_api_catalog

    pack = {"library": {"name": "lib", "imports": ["lib"]},
            "calls": [{"functions": ["lib.run"], "role": "sql", "sql": position}]}
    with pytest.raises(PackError, match="out of range"):
        build_api_catalog([("lib", pack)])


def test_a_deeply_nested_pack_is_a_pack_error(tmp_path):
    from tenantlint.packs import PackError, load_pack_files

    (tmp_path / "deep.toml").write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(PackError, match="deep.toml"):
        load_pack_files(tmp_path)
