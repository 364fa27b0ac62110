"""Which files a scan reads: folders walked with .gitignore and excludes applied,
explicitly named files always scanned unless `force-exclude` (as in ruff)."""
from __future__ import annotations

import fnmatch
import functools
import re
import os
from pathlib import Path
from typing import Iterable, Iterator

import pathspec

from tenantlint.config import ConfigError, Settings

SOURCE_SUFFIXES = (".py", ".pyi", ".sql")


def _excluded(rel: str, name: str, patterns: Iterable[str]) -> bool:
    matcher = _compiled(tuple(patterns))
    return matcher(name) is not None or matcher(rel) is not None


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
    path = folder / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def walk(folder: Path, settings: Settings) -> Iterator[Path]:
    """Source files under `folder`, sorted, skipping excluded and git-ignored paths,
    never following symlinked folders (no loops)."""
    root = settings.root.resolve()
    patterns = (*settings.exclude, *settings.extend_exclude)
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

    def visit(current: Path) -> Iterator[Path]:
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
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
            except OSError:
                # A link we cannot follow (a loop: ELOOP) named like source is handed on,
                # and reading it reports why (TL001); anything else is not ours to read.
                if entry.name.endswith(SOURCE_SUFFIXES) and not _excluded(rel, entry.name, patterns):
                    yield path
                continue
            if _excluded(rel, entry.name, patterns) or ignored(path, is_dir):
                continue
            if is_dir:
                yield from visit(path)
            elif is_file and entry.name.endswith(SOURCE_SUFFIXES):
                yield path
            elif entry.is_symlink() and not os.path.exists(entry.path) and entry.name.endswith(SOURCE_SUFFIXES):
                yield path  # a broken link named like source: reported as unreadable
        if added:
            specs.pop()

    yield from visit(folder)


def collect(paths: Iterable[str], settings: Settings, cwd: Path | None = None) -> list[Path]:
    """The files to scan for the paths given on the command line."""
    cwd = cwd or Path.cwd()
    out: list[Path] = []
    seen: set[Path] = set()
    patterns = (*settings.exclude, *settings.extend_exclude)
    for raw in paths:
        path = (cwd / raw) if not os.path.isabs(raw) else Path(raw)
        if not os.path.lexists(path):
            raise ConfigError(f"path does not exist: {raw}")
        if path.is_dir():
            found: Iterable[Path] = walk(path, settings)
        else:
            if settings.force_exclude:
                rel = relative_to_root(path, settings)
                if _excluded(rel, path.name, patterns) or any(
                        _excluded(rel_parent, Path(rel_parent).name, patterns) for rel_parent in _parents(rel)):
                    continue
            found = [path]
        for item in found:
            key = item.resolve() if item.exists() else item.absolute()
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def relative_to_root(path: Path, settings: Settings) -> str:
    try:
        return path.resolve().relative_to(settings.root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


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
