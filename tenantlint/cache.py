"""The result cache, in `.tenantlint_cache/` at the project root.

- Per-file results are keyed by the file's content hash, its path, the settings
  fingerprint, the tenant catalog's fingerprint and the code fingerprint (tenantlint's
  version and its own source and rule packs, sqlglot's version, the Python version): any change
  to what can change a result is a miss.
- The catalog pass keeps each file's facts keyed by its path and `stat` (size, mtime,
  inode), trusted only when the file was last modified well before it was recorded (a
  file rewritten within the same clock tick is re-read), so a pre-commit run on a few
  files does not re-read the project.
- Entries are written to a temporary file and renamed into place (atomic: concurrent
  runs at worst both compute the same entry); an entry that does not verify or does
  not load is a miss, never an error; a cache folder that cannot be written is no cache.
- Entries are pickles signed with HMAC-SHA256 under a per-user key kept outside the
  project (`$XDG_CACHE_HOME/tenantlint/key`): a cache folder committed to a repository
  under review is never unpickled.
"""
from __future__ import annotations

import hashlib
import sys
import hmac
import os
import pickle
import tempfile
import time
from dataclasses import fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tenantlint.source import read_bytes

CACHE_DIR = ".tenantlint_cache"
_FORMAT = "2"
_RACY_NS = 2_000_000_000  # a file modified this close to its recording is re-read next time
# Entries not read or written for this long are deleted, at most once a day: content-hash
# keys never overwrite one another, so without pruning every edit ever made stays on disk.
PRUNE_AFTER_DAYS = 30
_PRUNE_EVERY_S = 24 * 3600


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """What our own results depend on: versions, plus the size and mtime of every
    source and pack file of tenantlint (a development checkout changes without a
    version bump)."""
    import sqlglot

    from tenantlint import __version__

    # The interpreter matters too: CPython's own parser reads every file (TL001, the tree).
    digest = hashlib.sha256(f"{_FORMAT}|{__version__}|{sqlglot.__version__}"
                            f"|{sys.version_info[:3]}".encode())
    package = Path(__file__).resolve().parent
    roots = [package, package.parent / "rules"]
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".py", ".toml")):
                    try:
                        st = os.stat(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    digest.update(f"{dirpath}/{name}|{st.st_size}|{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _secret() -> bytes:
    # A relative XDG_CACHE_HOME is invalid (XDG spec: ignore it); honouring it would write
    # the signing key into whatever folder the scan runs in, often the project itself.
    configured = os.environ.get("XDG_CACHE_HOME") or ""
    base = (Path(configured) if os.path.isabs(configured) else Path.home() / ".cache") / "tenantlint"
    path = base / "key"
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except OSError:
        pass
    key = os.urandom(32)
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=base, prefix=".key")
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        try:
            os.link(tmp, path)  # first writer wins; the others read its key
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return path.read_bytes()
    except OSError:
        return key  # no writable home: the cache lives for this process only


class Store:
    """Signed pickles under `<root>/.tenantlint_cache/`, written atomically."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / CACHE_DIR
        self.usable = self._prepare()
        self._key = _secret() if self.usable else b""

    def _prepare(self) -> bool:
        try:
            self.dir.mkdir(exist_ok=True)
            ignore = self.dir / ".gitignore"
            if not ignore.exists():
                self._atomic(ignore, b"# Created by tenantlint: the cache is never committed.\n*\n")
                self._atomic(self.dir / "CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55\n"
                                                          b"# This file marks a cache folder created by tenantlint.\n")
            return os.access(self.dir, os.W_OK)
        except OSError:
            return False

    def _atomic(self, target: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _path(self, kind: str, key: str) -> Path:
        return self.dir / kind / key[:2] / key

    def load(self, kind: str, key: str) -> Any:
        if not self.usable:
            return None
        try:
            data = self._path(kind, key).read_bytes()
        except OSError:
            return None
        mac, body = data[:32], data[32:]
        if len(mac) != 32 or not hmac.compare_digest(mac, self._sign(kind, key, body)):
            return None
        try:
            value = pickle.loads(body)
        except Exception:  # noqa: BLE001 - a corrupt or stale entry is a miss
            return None
        try:
            os.utime(self._path(kind, key))  # still in use: see prune()
        except OSError:
            pass
        return value

    def _sign(self, kind: str, key: str, body: bytes) -> bytes:
        """The MAC covers where the entry is filed, not only what it holds: a valid entry
        copied under another key (another file's results) does not verify."""
        where = f"{_FORMAT}\0{kind}\0{key}\0".encode("utf-8", "surrogateescape")
        return hmac.new(self._key, where + body, hashlib.sha256).digest()

    def save(self, kind: str, key: str, value: Any) -> None:
        if not self.usable:
            return
        try:
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            path = self._path(kind, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._atomic(path, self._sign(kind, key, body) + body)
        except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
            pass

    def prune(self, max_age_days: float = PRUNE_AFTER_DAYS, *, force: bool = False) -> int:
        """Delete entries neither read nor written for `max_age_days`. Runs at most once
        a day (a stamp file records the last run) unless forced; returns how many went."""
        if not self.usable:
            return 0
        stamp = self.dir / ".last-prune"
        now = time.time()
        try:
            if not force and now - stamp.stat().st_mtime < _PRUNE_EVERY_S:
                return 0
        except OSError:
            pass
        try:
            self._atomic(stamp, b"")
        except OSError:
            return 0
        cutoff, removed = now - max_age_days * 86400, 0
        for kind in ("results", "catalog"):
            for entry in (self.dir / kind).glob("*/*"):
                try:
                    if entry.stat().st_mtime < cutoff:
                        entry.unlink()
                        removed += 1
                except OSError:
                    continue  # another run may be pruning too
        return removed


def stable_digest(value: Any) -> str:
    """A hash of a value that does not depend on set order or hash randomization."""
    digest = hashlib.sha256()

    def feed(obj: Any, depth: int = 0) -> None:
        if depth > 50:
            digest.update(b"<deep>")
            return
        if obj is None or isinstance(obj, (bool, int, float, str, bytes, Path)):
            digest.update(f"{type(obj).__name__}:{obj!r};".encode("utf-8", "backslashreplace"))
        elif is_dataclass(obj) and not isinstance(obj, type):
            digest.update(f"<{type(obj).__qualname__}".encode())
            for f in fields(obj):
                digest.update(f.name.encode())
                feed(getattr(obj, f.name), depth + 1)
            digest.update(b">")
        elif isinstance(obj, dict) or hasattr(obj, "items") and callable(obj.items):
            items = sorted(((_sort_key(k), k, v) for k, v in obj.items()), key=lambda t: t[0])
            digest.update(b"{")
            for _, k, v in items:
                feed(k, depth + 1)
                feed(v, depth + 1)
            digest.update(b"}")
        elif isinstance(obj, (set, frozenset)):
            digest.update(b"#")
            for _, item in sorted(((_sort_key(i), i) for i in obj), key=lambda t: t[0]):
                feed(item, depth + 1)
            digest.update(b"#")
        elif isinstance(obj, (list, tuple)):
            digest.update(b"[")
            for item in obj:
                feed(item, depth + 1)
            digest.update(b"]")
        elif hasattr(obj, "__dict__"):
            digest.update(f"<{type(obj).__qualname__}".encode())
            feed(vars(obj), depth + 1)
            digest.update(b">")
        else:
            digest.update(f"{type(obj).__qualname__}:{obj!r};".encode())

    feed(value)
    return digest.hexdigest()


def _sort_key(obj: Any) -> str:
    return f"{type(obj).__name__}:{obj!r}"


class ResultCache:
    """FileResults of the per-file pass."""

    def __init__(self, settings, catalog) -> None:
        self.store = Store(settings.root)
        self.max_size = settings.max_file_size
        self.base = hashlib.sha256("|".join(
            (code_fingerprint(), settings.fingerprint(), catalog_fingerprint(catalog))).encode()).hexdigest()

    @property
    def usable(self) -> bool:
        return self.store.usable

    def key(self, path: Path, rel: str) -> str | None:
        """The key of the file's current content, None if it cannot be read (not worth
        caching: reported each time)."""
        raw = read_bytes(path, self.max_size)
        return None if raw.data is None else self.key_for(rel, hashlib.sha256(raw.data).digest())

    def key_for(self, rel: str, digest: bytes) -> str:
        return hashlib.sha256(f"{self.base}|{rel}|".encode("utf-8", "surrogateescape") + digest).hexdigest()

    def get(self, key: str):
        return self.store.load("results", key)

    def put(self, key: str, result) -> None:
        if not getattr(result, "transient", False):
            self.store.save("results", key, result)


def catalog_fingerprint(catalog) -> str:
    fp = getattr(catalog, "_tenantlint_fingerprint", None)
    if fp is None:
        fp = stable_digest(catalog)
        try:
            object.__setattr__(catalog, "_tenantlint_fingerprint", fp)
        except (AttributeError, TypeError):
            pass
    return fp


def _stamp(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def stamp_before_read(path: Path) -> tuple:
    """(stat stamp, time): take it before reading a file whose facts will be recorded."""
    return _stamp(path), time.time_ns()


class FactCache:
    """The catalog pass's per-file facts, one manifest per settings fingerprint."""

    def __init__(self, settings) -> None:
        self.store = Store(settings.root)
        self.key = hashlib.sha256(f"{code_fingerprint()}|{settings.fingerprint()}".encode()).hexdigest()
        loaded = self.store.load("catalog", self.key)
        self.old: dict = loaded if isinstance(loaded, dict) else {}
        self.new: dict = {}
        self.changed = False

    def lookup(self, path: Path, rel: str) -> list | None:
        """The file's facts if recorded for exactly this file state, else None."""
        stamp = _stamp(path)
        entry = self.old.get(rel)
        if stamp is not None and entry is not None and entry[0] == stamp \
                and max(stamp[1], stamp[3]) + _RACY_NS < entry[1]:
            self.new[rel] = entry
            return list(entry[2])
        return None

    def record(self, path: Path, rel: str, facts: list, before: tuple | None = None) -> None:
        """Record facts under `before`, the file's stamp taken before it was read (see
        `stamp_before_read`): a file changed after the read no longer matches, so facts
        are never filed under a state they were not computed from. The entry is trusted
        only if the file was not modified around that moment (see lookup)."""
        stamp, when = before if before is not None else stamp_before_read(path)
        if stamp is not None:
            self.new[rel] = (stamp, when, tuple(facts))
            self.changed = True

    def save(self) -> None:
        if self.changed or set(self.new) != set(self.old):
            self.store.save("catalog", self.key, self.new)
