"""The small promises of the command line: Ctrl-C is 130 (1 means findings), usage
errors are one line, `ignore[]` silences nothing (and says so), a relative
XDG_CACHE_HOME never puts the cache signing key into the project."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from clihelp import run  # noqa: E402
from robusthelp import LEAK, REPO, tiny_project  # noqa: E402

SLOW_SCAN = r"""
import sys, time
import tenantlint.engine

def scan(*args, **kwargs):
    sys.stderr.write("scanning\n"); sys.stderr.flush()
    time.sleep(60)

tenantlint.engine.scan = scan
from tenantlint.cli import main
main(["scan", "--no-cache", "."])
"""




def test_ctrl_c_exits_130(tmp_path):
    root = tiny_project(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SCAN], cwd=root, env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        assert proc.stderr.readline().strip() == b"scanning"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and err.strip().splitlines()[-1] == b"tenantlint: interrupted"


@pytest.mark.parametrize("args", [["scan", "--bogus"], ["scan", "--format", "xml"], ["scan", "-j", "-1"],
                                  ["scan", "--fail-on", "info"], ["nope"], ["explain"]])
def test_usage_errors_are_one_line_exit_2(tmp_path, args):
    result = run(args, tiny_project(tmp_path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tenantlint: error: "), result.stderr


def test_help_and_version_still_work(tmp_path):
    root = tiny_project(tmp_path)
    assert run(["--version"], root).exit_code == 0
    result = run(["scan", "--help"], root)
    assert result.exit_code == 0 and "--format" in result.stdout


@pytest.mark.parametrize("bracket", ["ignore[]", "ignore[,]", "ignore[ , ]"])
def test_an_empty_code_list_silences_nothing_and_is_reported(tmp_path, bracket):
    root = tiny_project(tmp_path)
    (root / "a.py").write_text(LEAK.replace('orders")', f'orders")  # tenantlint: {bracket} legacy'))
    result = run(["scan", "--no-cache", "--format", "json", "."], root)
    assert result.exit_code == 1, result.stderr
    found = sorted((d["line"], d["code"]) for d in json.loads(result.stdout)["diagnostics"])
    assert found == [(2, "TL003"), (2, "TL101")]


def test_relative_xdg_cache_home_does_not_write_the_key_into_thetiny_project(tmp_path):
    root = tiny_project(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", HOME=str(home), XDG_CACHE_HOME="cachedir")
    proc = subprocess.run([sys.executable, "-m", "tenantlint", "scan", "."], cwd=root, env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert not (root / "cachedir").exists()
    assert not [p for p in root.rglob("key") if p.is_file()]
    assert (home / ".cache" / "tenantlint" / "key").is_file()
