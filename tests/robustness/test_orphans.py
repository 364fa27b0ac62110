"""Workers never outlive the scan: when the parent dies (TERM, HUP, even KILL, which
runs no cleanup at all), its workers exit within seconds instead of waiting forever
on a pipe they hold both ends of."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PARENT = r"""
import os, sys, time
from pathlib import Path
from tenantlint.pool import run_in_pool

def job(path):
    os.write(1, f"{os.getpid()}\n".encode())  # one write: the two workers must not interleave
    time.sleep(120)  # a long file: the parent dies meanwhile
    return path

for _ in run_in_pool([Path("a"), Path("b")], job, lambda path, why: None, 2, timeout=600):
    pass
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _reap(parent: subprocess.Popen, pids: list[int]) -> None:
    """Never leave our own stray processes behind (each by its pid)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if parent.poll() is None:
        parent.kill()
        parent.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_workers_exit_when_the_parent_dies(sig):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE)
    workers = []
    try:
        workers = [int(parent.stdout.readline()) for _ in range(2)]
        parent.send_signal(sig)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "workers orphaned"
    finally:
        _reap(parent, workers)


IDLE = r"""
import os, sys, time
from pathlib import Path
import tenantlint.pool as pool

pool._die_with_parent = lambda parent: None  # as where there is no parent-death signal

def job(path):
    os.write(1, f"{path.name} {os.getpid()}\n".encode())
    if path.name == "b":
        time.sleep(120)
    return path

for _ in pool.run_in_pool([Path("a"), Path("b")], job, lambda path, why: None, 2, timeout=600):
    pass
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_idle_worker_sees_eof_when_the_parent_dies_without_the_signal():
    """The portable path: the worker holds no copy of the parent's end of its pipe, so
    the parent's death is an EOF on it."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    parent = subprocess.Popen([sys.executable, "-c", IDLE], env=env, stdout=subprocess.PIPE)
    pids = {}
    try:
        for _ in range(2):
            name, pid = parent.stdout.readline().split()
            pids[name.decode()] = int(pid)
        time.sleep(1.0)  # worker a has sent its result and waits for the next task
        parent.kill()
        parent.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(pids["a"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pids["a"]), "an idle worker waits forever on a pipe it holds both ends of"
    finally:
        _reap(parent, list(pids.values()))
