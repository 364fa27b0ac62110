"""Find `[tool.tenantlint]` (pyproject.toml) or a `tenantlint.toml`, validate it, and
freeze it into Settings. A bad key or value is a ConfigError (exit 2), never ignored:
a security gate whose config silently fails open protects nothing. What needs the rule
registry or the API packs (rule codes, `sinks`/`caches`/... entries) is checked above
this module, by checked_settings.py, which every entry point loads through."""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(Exception):
    """A usage or configuration problem: reported in one line, exit 2."""


DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", ".tox", ".nox",
    "node_modules", "build", "dist", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".tenantlint_cache", "site-packages", "*.egg-info", ".eggs",
)


@dataclass(frozen=True)
class Settings:
    root: Path = Path(".")
    config_file: Path | None = None
    tenant_columns: tuple[str, ...] = ("tenant_id",)
    tenant_tables: tuple[str, ...] = ()
    tenant_models: tuple[str, ...] = ()
    global_tables: tuple[str, ...] = ()
    discover: bool = True
    scope_providers: tuple[str, ...] = ()
    trust_rls: bool = False
    trust_scoped_managers: bool = True  # django-scopes / django-multitenant managers scope
    allow_raw_connections: tuple[str, ...] = ()
    require_rls: bool = False
    global_key_prefixes: tuple[str, ...] = ("global:",)
    tenant_sources: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False
    require_reason: bool = False
    dialect: str = "postgres"
    max_file_size: int = 5_000_000
    # API catalog extensions, as given (validated by tenantlint.packs).
    sinks: Mapping[str, Any] = field(default_factory=dict)
    connections: Mapping[str, Any] = field(default_factory=dict)
    caches: Mapping[str, Any] = field(default_factory=dict)
    vector_stores: Mapping[str, Any] = field(default_factory=dict)
    object_stores: Mapping[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of everything that can change results (for the cache)."""
        data = asdict(self)
        data["root"] = str(self.root)
        data["config_file"] = str(self.config_file)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_LIST_KEYS = {
    "tenant-columns", "tenant-tables", "tenant-models", "global-tables", "scope-providers",
    "allow-raw-connections", "global-key-prefixes", "tenant-sources", "select", "ignore", "exclude", "extend-exclude",
}
_BOOL_KEYS = {"discover", "trust-rls", "require-rls", "require-reason", "force-exclude", "trust-scoped-managers"}
_TABLE_KEYS = {"sinks", "connections", "caches", "vector-stores", "object-stores"}
KNOWN_KEYS = _LIST_KEYS | _BOOL_KEYS | _TABLE_KEYS | {"per-file-ignores", "dialect", "max-file-size"}
DIALECTS = (
    "postgres", "mysql", "sqlite", "clickhouse", "bigquery", "snowflake", "duckdb",
    "redshift", "tsql", "oracle", "trino", "presto", "spark", "databricks", "hive",
)


def read_toml(path: Path) -> dict:
    """A TOML file's data, or a ConfigError naming the file (and the line, for a syntax
    error). A UTF-8 byte order mark is accepted, as editors on Windows write one."""
    try:
        with open(path, "rb") as fh:  # a config is small: no size limit games here
            raw = fh.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    if len(raw) > _MAX_CONFIG_BYTES:
        raise ConfigError(f"cannot read config {path}: larger than {_MAX_CONFIG_BYTES // 2**20} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"cannot read config {path}: line {line}: not UTF-8 ({exc.reason})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        end = f"at the end of the file, line {max(1, len(text.splitlines()))}"
        raise ConfigError(f"invalid TOML in {path}: {str(exc).replace('at end of document', end)}") from None
    except RecursionError:
        raise ConfigError(f"invalid TOML in {path}: nested too deeply to read") from None


_MAX_CONFIG_BYTES = 16 * 2**20


def find_config(start: Path) -> Path | None:
    """Walk up from `start` to the first tenantlint.toml, or pyproject.toml with our section."""
    for folder in (start, *start.parents):
        candidate = folder / "tenantlint.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            # One that cannot be read may hold our section: an error, never skipped (as ruff).
            data = read_toml(pyproject)
            tool = data.get("tool", {})
            if isinstance(tool, Mapping) and "tenantlint" in tool:
                return pyproject
    return None


_VCS_MARKERS = (".git", ".hg")
_ROOT_MARKERS = (*_VCS_MARKERS, "pyproject.toml", "setup.cfg", "setup.py")


def project_root(start: Path) -> Path:
    """Without a config, the project is the nearest folder up from `start` that looks
    like one (a VCS root or a packaging file), as ruff and pre-commit find it: the
    catalog must not shrink because the scan was started in a subfolder."""
    return _marked_root(start) or start


def repository_root(start: Path) -> Path | None:
    """The nearest folder up from `start` holding `.git` or `.hg`."""
    return _marked_root(start, _VCS_MARKERS)


def _marked_root(start: Path, markers: Sequence[str] = _ROOT_MARKERS) -> Path | None:
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in markers):
            return folder
    return None


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _scanned_folder(cwd: Path, targets: Sequence[str | Path]) -> Path | None:
    """The deepest folder holding every scan target, or None if there are none."""
    folders = []
    for target in targets:
        path = (cwd / target).resolve() if not Path(target).is_absolute() else Path(target).resolve()
        folders.append(path if os.path.isdir(path) else path.parent)  # (Path.is_dir raises on EACCES)
    if not folders:
        return None
    return Path(os.path.commonpath([str(f) for f in folders]))


def _config_root(config: Path) -> Path:
    """A found config's project: the repository holding it, else its folder. A config
    kept in a subfolder (`ci/tenantlint.toml`) must not shrink what the catalog reads."""
    folder = config.resolve().parent
    return repository_root(folder) or folder


def _explicit_root(cwd: Path, scanned: Path | None) -> Path:
    """With `--config FILE` the file says how to lint, not what the project is: the
    project is the repository around the current folder (as ruff, the config may be kept
    anywhere). Outside any repository, the current folder's project when it holds what
    is scanned, else the scanned folder's (never the whole home folder)."""
    repo = repository_root(cwd)
    if repo is not None:
        return repo
    if scanned is not None:
        around = _marked_root(cwd)
        if around is None or not _within(scanned, around):
            return repository_root(scanned) or project_root(scanned)
    return project_root(cwd)


def load_settings(config: Path | None = None, cwd: Path | None = None,
                  targets: Sequence[str | Path] = ()) -> Settings:
    """Settings from an explicit file, else the nearest one up from the current folder,
    else defaults rooted at the current project. When the current folder is in no project
    (no config, no repository) but the scan targets are, as in `tenantlint scan ~/proj`
    run from the home folder, the targets' config and project are used instead: the
    catalog pass must not read the whole home folder.

    The project root (what the catalog pass reads, what output paths are relative to) is
    the repository around the config, or around the current folder for an explicit
    `config` (relative to `cwd`); see `_config_root` and `_explicit_root`."""
    cwd = (cwd or Path.cwd()).resolve()
    scanned = _scanned_folder(cwd, targets)
    if config is not None:
        path = cwd / config
        root = _explicit_root(cwd, scanned)
    else:
        path = find_config(cwd)
        if path is None:
            root = _marked_root(cwd)
            if scanned is not None and (root is None or not _within(scanned, root)):
                path = find_config(scanned)
                if path is None:
                    return Settings(root=project_root(scanned))
            else:
                return Settings(root=root or cwd)
        root = _config_root(path)
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {config if config is not None else path}")
    data = read_toml(path)
    if path.name == "pyproject.toml":
        if "tenantlint" not in data.get("tool", {}):
            raise ConfigError(f"{path} has no [tool.tenantlint] section")
        section = data["tool"]["tenantlint"]
    else:
        section = data.get("tool", {}).get("tenantlint", data) if set(data) == {"tool"} else data
    where = config_origin(path)
    return settings_from_mapping(section, root=root, config_file=path.resolve(), where=where)


def settings_from_mapping(section: Mapping[str, Any], root: Path, config_file: Path | None = None,
                          where: str = "config") -> Settings:
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: expected a table of settings")
    values: dict[str, Any] = {"root": root, "config_file": config_file}
    for key, value in section.items():
        if key not in KNOWN_KEYS:
            raise ConfigError(_unknown_key(key, where, config_file))
        attr = key.replace("-", "_")
        if key in _LIST_KEYS:
            values[attr] = _str_list(value, key, where)
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: `{key}` must be true or false")
            values[attr] = value
        elif key in _TABLE_KEYS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: `{key}` must be a table")
            values[attr] = dict(value)
        elif key == "per-file-ignores":
            values[attr] = _per_file_ignores(value, where)
        elif key == "dialect":
            if not isinstance(value, str) or value.lower() not in DIALECTS:
                raise ConfigError(f"{where}: `dialect` must be one of {', '.join(DIALECTS)}")
            values[attr] = value.lower()
        elif key == "max-file-size":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{where}: `max-file-size` must be a positive number of bytes")
            values[attr] = value
    if "tenant_columns" in values:
        values["tenant_columns"] = tuple(c.lower() for c in values["tenant_columns"])
        if not values["tenant_columns"]:
            raise ConfigError(f"{where}: `tenant-columns` must name at least one column")
    if "tenant_sources" in values:
        values["tenant_sources"] = _dotted_names(values["tenant_sources"], "tenant-sources", where)
    return Settings(**values)


def config_origin(config_file: Path) -> str:
    """How messages name the config: its path, and the section in a pyproject.toml."""
    return f"{config_file} [tool.tenantlint]" if config_file.name == "pyproject.toml" else str(config_file)


def _unknown_key(key: str, where: str, config_file: Path | None) -> str:
    """`unknown key` with the line it is on and the known key it most resembles."""
    spelled = key.replace("_", "-").lower()
    close = [spelled] if spelled in KNOWN_KEYS else difflib.get_close_matches(spelled, sorted(KNOWN_KEYS), n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    line = _key_line(config_file, key) if config_file is not None else None
    return f"{where}{f', line {line}' if line else ''}: unknown key `{key}`{hint}"


def _key_line(config_file: Path, key: str) -> int | None:
    """The line of `key = ...` (or a `[...key]` table header) in our section of the file:
    tomllib gives values, not positions, and a reader fixes a typo faster at its line."""
    try:
        lines = config_file.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    quoted = re.escape(key)
    assignment = re.compile(rf"""^\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*=""")
    header = re.compile(rf"""^\s*\[\s*(?:tool\.tenantlint\.)?(?:{quoted}|"{quoted}")\s*\]""")
    ours = config_file.name != "pyproject.toml"
    for number, text in enumerate(lines, 1):
        if header.match(text) and (ours or "tool.tenantlint" in text):
            return number
        if text.lstrip().startswith("["):
            name = text.strip().strip("[]").replace(" ", "").replace('"', "")
            ours = config_file.name != "pyproject.toml" or name == "tool.tenantlint"
        elif ours and assignment.match(text):
            return number
    return None


def _str_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    # An empty entry switches checks off without a word: every key starts with a "" prefix,
    # a "" tenant column matches no column at all.
    if any(not v.strip() for v in value):
        raise ConfigError(f"{where}: `{key}` has an empty entry: remove it or name something")
    if key == "tenant-columns":
        bad = [v for v in value if not _COLUMN.fullmatch(v.strip('"`[]'))]
        if bad:
            raise ConfigError(f"{where}: `tenant-columns`: `{bad[0]}` is not a column name")
    return tuple(value)


# `request.tenant`, `flask.g.org_id`, `app.auth.current_org()`: a dotted path, optionally called.
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(\))?")


def _dotted_names(names: tuple[str, ...], key: str, where: str) -> tuple[str, ...]:
    for name in names:
        if not _DOTTED_NAME.fullmatch(name.strip()):
            raise ConfigError(f"{where}: `{key}` entry {name!r} is not a dotted name "
                              f"(like `request.tenant` or `app.auth.current_org()`)")
    return tuple(name.strip() for name in names)


_COLUMN = re.compile(r"[^\W\d]\w*")


def _per_file_ignores(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
    return tuple((glob, _str_list(codes, "per-file-ignores", where)) for glob, codes in value.items())
