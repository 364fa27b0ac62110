"""Settings as every entry point (CLI, API, editor server, db audit) loads them: read and
shaped by config.py, then checked against what config.py cannot know without importing
upward: the rule codes in `select`/`ignore`/`per-file-ignores` exist, and the config's own
API-pack entries (`sinks`, `caches`, ...) are well formed. Either is a ConfigError."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from tenantlint.config import Settings, config_origin, load_settings
from tenantlint.packs import validate_settings
from tenantlint.rules import validate_codes


def check_settings(settings: Settings, where: str | None = None) -> Settings:
    """`settings`, unchanged, once its codes and API entries are known good."""
    if where is None:
        where = config_origin(settings.config_file) if settings.config_file is not None else "config"
    for key in ("select", "ignore"):
        validate_codes(getattr(settings, key), f"{where}: `{key}`")
    for _glob, codes in settings.per_file_ignores:
        validate_codes(codes, f"{where}: `per-file-ignores`")
    if any((settings.sinks, settings.connections, settings.caches, settings.vector_stores,
            settings.object_stores)):
        validate_settings(settings, where)
    return settings


def load_checked_settings(config: Path | None = None, cwd: Path | None = None,
                          targets: Sequence[str | Path] = ()) -> Settings:
    """config.load_settings, checked (see check_settings)."""
    return check_settings(load_settings(config, cwd=cwd, targets=targets))
