"""Checking files on worker processes that may die.

The analysis is pure Python and holds the GIL, so threads don't help; and a file can
still exhaust memory or time (a huge generated module, a pathological SQL string, a
bug of ours that loops). So each worker gets one file at a time, the parent watches it, and a
worker that crashes, runs past the per-file time limit or grows past the memory limit
is killed and replaced: that file becomes a TL001 saying why, every other result is
kept. Results are yielded in input order, so output is deterministic whatever the timing.

Limits: `TENANTLINT_FILE_TIMEOUT` (seconds, default 60) and `TENANTLINT_FILE_MEMORY_MB`
(resident memory of a worker, default 1536)."""
from __future__ import annotations

import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from tenantlint.config import ConfigError
from tenantlint.gc_pause import frozen
from tenantlint.errors import InternalError

_POLL = 0.2
# The stack a job may give a thread of its own (the engine runs the checkers on one this
# big): a worker's address-space cap leaves room for it.
THREAD_STACK = 512 * 1024 * 1024


def file_timeout() -> float:
    return _env_number("TENANTLINT_FILE_TIMEOUT", 60.0)


def file_memory() -> int:
    return int(_env_number("TENANTLINT_FILE_MEMORY_MB", 1536.0) * 2**20)


def _env_number(name: str, default: float) -> float:
    """A positive number from the environment, `default` when unset or empty. Anything
    else is a ConfigError: a typo must not quietly run with other limits than asked."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < float("inf")):
        raise ConfigError(f"{name} must be a positive number, got `{text}`")
    return value


def _context():
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


# -- the worker ---------------------------------------------------------------------
def _worker(conn, job: Callable[[Path], Any], memory: int, parent: int = 0, inherited: tuple = ()) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    # A forked worker holds copies of the parent's pipe ends (its own and the other
    # workers'): while it does, its own recv() never sees EOF when the parent dies.
    for end in inherited:
        try:
            end.close()
        except OSError:
            pass
    _die_with_parent(parent)
    _cap_address_space(memory)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, path = task
        try:
            reply = ("ok", job(path))
        except InternalError as exc:
            reply = ("bug", str(exc))
        except MemoryError:
            reply = ("oom", "")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails loudly
            reply = ("bug", f"internal error while checking {path}: {type(exc).__name__}: {exc}")
        try:
            conn.send((index, reply))
        except (OSError, EOFError):
            return
        except Exception as exc:  # noqa: BLE001 - an unpicklable result is our bug
            conn.send((index, ("bug", f"cannot send the result for {path}: {exc}")))


def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this worker when the parent dies (even by SIGKILL);
    elsewhere the closed pipe does it (EOF) once the current file is done."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError, ImportError):
            pass
    if parent and os.getppid() != parent:
        os._exit(0)  # the parent died before we asked to follow it


_PR_SET_PDEATHSIG = 1
# The parent's ends of the live workers' pipes: a worker forked later closes its copies.
_PARENT_ENDS: list = []


def _cap_address_space(memory: int) -> None:
    """A hard backstop under the parent's resident-memory watch: address space may grow
    by the memory limit plus the parse thread's stack (and its malloc arena) above what
    the worker maps now."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + THREAD_STACK + memory + 512 * 2**20
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# -- the parent ---------------------------------------------------------------------
@dataclass
class _Worker:
    proc: object
    conn: object
    task: tuple[int, Path] | None = None
    started: float = 0.0
    # Its resident memory when it started: a forked worker counts the parent's pages it
    # shares, and a large parent (a test run, the editor server) is not the analysis.
    base: int = 0


def run_in_pool(paths: Sequence[Path], job: Callable[[Path], Any], failed: Callable[[Path, str], Any],
                jobs: int, *, timeout: float | None = None, memory: int | None = None) -> Iterator:
    """`job(path)` for each path, in order, on `jobs` watched worker processes; a path
    whose worker crashed, timed out or ran out of memory gives `failed(path, why)`. An
    exception inside `job` is our bug: InternalError."""
    from multiprocessing.connection import wait

    timeout = timeout or file_timeout()
    memory = memory or file_memory()
    ctx = _context()
    queue = deque(enumerate(paths))
    done: dict[int, object] = {}
    workers: list[_Worker] = []
    bug: list[str] = []

    forked = ctx.get_start_method() == "fork"

    def spawn() -> _Worker:
        parent_end, child_end = ctx.Pipe()
        # Only a forked child has copies to close (a spawned one would get duplicates).
        inherited = (parent_end, *_PARENT_ENDS) if forked else ()
        proc = ctx.Process(target=_worker, args=(child_end, job, memory, os.getpid(), inherited), daemon=True,
                           name="tenantlint-worker")
        proc.start()
        child_end.close()
        _PARENT_ENDS.append(parent_end)
        return _Worker(proc, parent_end, base=_rss(proc.pid))

    def assign(worker: _Worker) -> None:
        worker.task = queue.popleft() if queue else None
        if worker.task is not None:
            worker.started = time.monotonic()
            try:
                worker.conn.send(worker.task)
            except (OSError, EOFError):
                pass  # found dead on the next round

    def fail(worker: _Worker, why: str) -> None:
        index, path = worker.task
        done[index] = failed(path, why)
        _kill(worker)
        workers[workers.index(worker)] = replacement = spawn()
        assign(replacement)

    # A forked worker inherits the parent's heap (the catalog: millions of objects).
    # Frozen, its collector skips them instead of traversing them (and copying their
    # pages) again and again; on Django's tree that doubled the per-file pass. (A
    # spawned worker inherits nothing: freezing costs nothing there.)
    with frozen():
        try:
            for _ in range(max(1, min(jobs, len(paths)))):
                workers.append(spawn())
            for worker in list(workers):
                assign(worker)
            emitted = 0
            watched = time.monotonic()
            while emitted < len(paths):
                busy = [w for w in workers if w.task is not None]
                if not busy and emitted not in done:
                    break  # nothing in flight and nothing to emit: cannot happen, but never spin
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=_POLL)
                now = time.monotonic()
                # A worker with no reply yet is looked at (alive? too slow? too big?) when it
                # exited, and otherwise once per _POLL, not at every other worker's reply:
                # reading its memory from /proc for each of thousands of files cost the
                # parent a busy core's share.
                due = now - watched >= _POLL
                if due:
                    watched = now
                for worker in busy:
                    reply = _receive(worker)
                    if reply is not None:
                        index, (status, payload) = reply
                        if status == "ok":
                            done[index] = payload
                        elif status == "oom":
                            fail(worker, f"ran out of memory (limit {memory // 2**20:,} MB)")
                            continue
                        else:
                            bug.append(payload)
                            queue.clear()
                        assign(worker)
                    elif not (due or worker.proc.sentinel in ready or worker.conn in ready):
                        continue  # nothing new (a readable pipe with no reply is a closed one)
                    elif not worker.proc.is_alive():
                        fail(worker, f"the analysis crashed ({_why(worker.proc.exitcode)})")
                    elif now - worker.started > timeout:
                        fail(worker, f"the analysis took longer than {timeout:g} s")
                    elif _rss(worker.proc.pid) - worker.base > memory:
                        fail(worker, f"the analysis used more than {memory // 2**20:,} MB of memory")
                if bug:
                    raise InternalError(bug[0])
                while emitted in done:
                    yield done.pop(emitted)
                    emitted += 1
        finally:
            for worker in workers:
                try:
                    worker.conn.send(None)
                except (OSError, EOFError):
                    pass
            for worker in workers:
                worker.proc.join(timeout=1.0)
                if worker.proc.is_alive():
                    _kill(worker)
                _forget(worker.conn)


def _receive(worker: _Worker):
    try:
        if worker.conn.poll():
            return worker.conn.recv()
    except (EOFError, OSError):
        return None
    return None


def _kill(worker: _Worker) -> None:
    try:
        worker.proc.kill()
        worker.proc.join(timeout=5.0)
    except (OSError, ValueError, AttributeError):
        pass
    try:
        worker.conn.close()
    except OSError:
        pass
    _forget(worker.conn)


def _forget(conn) -> None:
    try:
        _PARENT_ENDS.remove(conn)
    except ValueError:
        pass


def _why(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


# -- a forked twin, working through the same steps in lockstep ------------------------
class Twin:
    """This process and a forked copy of it going through the same deterministic steps,
    each doing its share of a step and trading what it found at the step's end
    (`exchange`). The copy runs `body(its Twin)` and exits. When the copy dies or
    overruns, `exchange` gives None here and the twin is gone: the caller does the other
    share itself, so nothing is lost, only the time it would have saved."""

    def __init__(self, side: int, conn, proc=None) -> None:
        self.side, self._conn, self._proc = side, conn, proc  # side 0: this process; 1: the copy

    @property
    def alive(self) -> bool:
        return self._conn is not None

    @classmethod
    def start(cls, body: Callable[["Twin"], Any]) -> "Twin | None":
        """Fork the copy; None where this platform cannot fork (the caller works alone)."""
        ctx = _context()
        if ctx.get_start_method() != "fork":
            return None
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_run_twin, args=(there, body, os.getpid(), here), daemon=True,
                           name="tenantlint-twin")
        try:
            proc.start()
        except OSError:
            here.close()
            there.close()
            return None
        there.close()
        return cls(0, here, proc)

    def exchange(self, mine: Any, timeout: float) -> Any:
        """Send `mine`, get the other side's (None: the other side is gone). The copy sends
        first and this process receives first, so two large messages never block each other."""
        if self._conn is None:
            return None
        try:
            if self.side == 1:
                self._conn.send(mine)
                return self._conn.recv()
            if not self._conn.poll(timeout):
                raise TimeoutError
            theirs = self._conn.recv()
            self._conn.send(mine)
            return theirs
        except (EOFError, OSError, TimeoutError, ValueError, ImportError, AttributeError):
            self.close()
            if self.side == 1:
                raise SystemExit(0)  # the parent is gone or gave up on this copy
            return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(timeout=1.0)
            self._proc = None


def _run_twin(conn, body: Callable[[Twin], Any], parent: int, parent_end) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent_end.close()  # else our own recv() never sees EOF when the parent dies
    _die_with_parent(parent)
    twin = Twin(1, conn)
    try:
        body(twin)
    except BaseException:  # noqa: BLE001 - the parent, left alone, does the work and meets any error itself
        pass
    finally:
        twin.close()
