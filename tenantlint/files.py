"""Which files a scan reads: folders walked with .gitignore and excludes applied,
explicitly named files always scanned unless `force-exclude` (as in ruff)."""
from __future__ import annotations

import fnmatch
import functools
import os
import re
import sys
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

import pathspec

from tenantlint.config import ConfigError, Settings
from tenantlint.source import read_bytes

# Test code: a folder named tests/testing/fixtures, or a test module (`test_x.py`, `x_test.py`, conftest).
_TEST_PATH = re.compile(r"(^|/)(tests?|testing|fixtures)/|(^|/)(test_[^/]*|[^/]*_tests?|conftest)\.py$")


def is_test_path(rel: str) -> bool:
    return bool(_TEST_PATH.search(rel))

SOURCE_SUFFIXES = (".py", ".pyi", ".sql")


def _excluded(rel: str, name: str, patterns: Iterable[str], base: str = "") -> bool:
    matcher = _compiled(tuple(patterns))
    if matcher(name) is not None or matcher(rel) is not None:
        return True
    return bool(base) and rel.startswith(base + "/") and matcher(rel[len(base) + 1:]) is not None


def config_base(settings: Settings) -> str:
    """The config's folder relative to the project root: "" when the config sits at the
    root or outside the project. Globs in a config below the root (a subproject's
    pyproject.toml, `ci/tenantlint.toml`) may be written relative to either folder."""
    return "" if settings.config_file is None else _base(settings.config_file.parent, settings.root)


@functools.lru_cache(maxsize=16)
def _base(folder: Path, root: Path) -> str:
    if not inside(folder, root):
        return ""
    rel = relative(folder, root)
    return "" if rel in (".", "") else rel


def glob_forms(rel: str, base: str) -> tuple[str, ...]:
    """The forms of a root-relative path that config globs are matched against: the path
    itself and, under the config's folder `base`, the path relative to it (as ruff)."""
    if base and rel.startswith(base + "/"):
        return rel, rel[len(base) + 1:]
    return (rel,)


@functools.lru_cache(maxsize=32)
def _compiled(patterns: tuple[str, ...]):
    """All exclude globs as one regex: matched against every path of the walk, one
    fnmatch call per pattern was most of a warm pre-commit run."""
    globs = []
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        globs += [pattern, pattern + "/*"]
    if not globs:
        return lambda _text: None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)).match


def _read_gitignore(folder: Path):
    # Regular files only (a FIFO named .gitignore must not block the walk), size-bounded.
    raw = read_bytes(folder / ".gitignore", _MAX_GITIGNORE)
    if raw.data is None:
        return None
    return pathspec.GitIgnoreSpec.from_lines(raw.data.decode("utf-8", "replace").splitlines())


_MAX_GITIGNORE = 16 * 2**20


def walk(folder: Path, settings: Settings) -> Iterator[Path]:
    """Source files under `folder`, sorted, skipping excluded and git-ignored paths.

    Nothing named like source is dropped without a word: a FIFO, socket or device node,
    a broken or looping link, a folder that cannot be listed, a link that leads out of
    the project are all handed on, and reading them reports why (TL001). Symbolic links
    are followed after the real tree is walked, once per real path (no loops, and a file
    keeps its own name when a link also leads to it), when they lead inside the project."""
    root = settings.root.resolve()
    patterns = (*settings.exclude, *settings.extend_exclude)
    base = config_base(settings)
    specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    # .gitignore files between the project root and the folder apply too.
    folder = folder.resolve()
    chain = [root] + [p for p in reversed(folder.parents) if root in p.parents] + ([folder] if folder != root else [])
    for part in chain:
        spec = _read_gitignore(part)
        if spec is not None:
            specs.append((part, spec))

    def ignored(path: Path, is_dir: bool) -> bool:
        for base, spec in specs:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(rel + ("/" if is_dir else "")):
                return True
        return False

    root_prefix = str(root).rstrip(os.sep) + os.sep

    def rel_to_root(path: Path) -> str:
        text = str(path)
        if text.startswith(root_prefix):  # string ops: pathlib costs ~50 us per entry
            return text[len(root_prefix):].replace(os.sep, "/")
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    visited: set[str] = set()  # real paths of the folders walked
    found: set[str] = set()  # real paths of the files handed on
    links: deque[Path] = deque()  # met on the walk, followed once the real tree is done

    def visit(current: Path, real: str) -> Iterator[Path]:
        if real in visited:
            return
        visited.add(real)
        added = False
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            # A folder we cannot list is not silently clean: it is handed on like a file,
            # and reading it reports why (TL001).
            yield current
            return
        if current not in chain:
            spec = _read_gitignore(current)
            if spec is not None:
                specs.append((current, spec))
                added = True
        for entry in entries:
            path = Path(entry.path)
            rel = rel_to_root(path)
            if _excluded(rel, entry.name, patterns, base):
                continue
            if entry.is_symlink():
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if not ignored(path, is_dir):
                    links.append(path)
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if ignored(path, is_dir):
                continue
            if is_dir:
                yield from visit(path, os.path.join(real, entry.name))
            elif entry.name.endswith(SOURCE_SUFFIXES):
                # Regular or not (a FIFO, a socket, a device node): reading says why.
                found.add(os.path.join(real, entry.name))
                yield path
        if added:
            specs.pop()

    yield from visit(folder, str(folder))
    while links:
        path = links.popleft()
        try:
            target = os.path.realpath(path, strict=True) if sys.version_info >= (3, 10) else os.path.realpath(path)
            is_dir = os.path.isdir(target)
        except OSError:  # broken, or a loop (ELOOP): named like source, reading says why
            if path.name.endswith(SOURCE_SUFFIXES):
                yield path
            continue
        inside = target == str(root) or target.startswith(root_prefix)
        if not inside:
            if is_dir or path.name.endswith(SOURCE_SUFFIXES):
                yield path  # reported: a link out of the project (TL001), never read
        elif is_dir:
            yield from visit(path, target)
        elif path.name.endswith(SOURCE_SUFFIXES) and target not in found:
            found.add(target)
            yield path


def link_outside(path: Path, root: Path) -> str | None:
    """Why `path`, a symbolic link, is not read: it leads out of the project. None for
    anything else (one lstat in the common case)."""
    if not os.path.islink(path):
        return None
    target = os.path.realpath(path)
    base = os.path.realpath(root)
    if target == base or target.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return f"a symbolic link to `{target}`, outside the project: not analyzed"


def collect(paths: Iterable[str], settings: Settings, cwd: Path | None = None) -> list[Path]:
    """The files to scan for the paths given on the command line."""
    cwd = cwd or Path.cwd()
    out: list[Path] = []
    seen: set[Path] = set()
    patterns = (*settings.exclude, *settings.extend_exclude)
    for raw in paths:
        path = (cwd / raw) if not os.path.isabs(raw) else Path(raw)
        if not _exists(path):
            raise ConfigError(f"path does not exist: {raw}")
        if not inside(path, settings.root):
            raise ConfigError(f"{raw} is outside the project root {settings.root}: scan it from its own "
                              "project (the root is the repository around the config)")
        if os.path.isdir(path):  # (Path.is_dir raises on EACCES)
            found: Iterable[Path] = walk(path, settings)
        else:
            if settings.force_exclude:
                rel, base = relative(path, settings.root), config_base(settings)
                if _excluded(rel, path.name, patterns, base) or any(
                        _excluded(rel_parent, Path(rel_parent).name, patterns, base) for rel_parent in _parents(rel)):
                    continue
            found = [path]
        for item in found:
            # Two links out of the project to one file are two findings (TL001 each), not one.
            key = (item.resolve() if os.path.exists(item) and not link_outside(item, settings.root)
                   else item.absolute())
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


def _exists(path: Path) -> bool:
    """False only when the path is not there: one we may not look at (a folder on the
    way without permission) is there, and reading it reports why (TL001)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def relative(path: Path, root: Path) -> str:
    """The one way a path is shown and matched (output, excludes, per-file-ignores,
    cache keys): relative to the project root, and a symlink keeps its own name (an
    excluded `app/link.py` is excluded wherever it points; a broken link is reported
    under the name it has). A path outside the root is returned as given."""
    root = _resolved(root)
    absolute = os.path.normpath(os.path.abspath(path))
    prefix = str(root).rstrip(os.sep) + os.sep
    if absolute.startswith(prefix):  # the common case, without a realpath per file
        return Path(absolute[len(prefix):]).as_posix()
    absolute = Path(absolute)
    for candidate in (absolute, absolute.parent.resolve() / absolute.name):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def inside(path: Path, root: Path) -> bool:
    """Whether `path` lies in the project rooted at `root`, by its own name (a link in
    the project is in it wherever it points) or, failing that, by its real path."""
    root = _resolved(root)
    absolute = Path(os.path.normpath(os.path.abspath(path)))
    if absolute == root or root in absolute.parents:
        return True
    real = absolute.parent.resolve() / absolute.name
    return real == root or root in real.parents


def _resolved(root: Path) -> Path:
    """A realpath per file was a third of a warm pre-commit run: an absolute root is
    resolved once per process (a relative one depends on the current folder)."""
    return _resolve_absolute(root) if root.is_absolute() else root.resolve()


@functools.lru_cache(maxsize=16)
def _resolve_absolute(root: Path) -> Path:
    return root.resolve()


def module_name(rel: str) -> str:
    """`src/shop/db.py` -> `shop.db`; `pkg/__init__.py` -> `pkg`."""
    parts = rel.split("/")
    if not parts:
        return ""
    parts[-1] = parts[-1].rsplit(".", 1)[0]
    if parts[-1] == "__init__":
        parts.pop()
    if parts and parts[0] in ("src", "lib"):
        parts = parts[1:]
    return ".".join(p for p in parts if p.isidentifier())
