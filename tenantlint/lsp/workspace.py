"""What the editor server knows about one project: its settings, its catalog, and the
one-file answer for an editor buffer, computed by the same engine as `scan`.

The catalog is built once from the whole project (warm from `.tenantlint_cache/`, as a
pre-commit run is) and rebuilt when a file it reads changes on disk: a saved model,
migration, schema or config file can change every open file's answer. Unsaved text is
judged against the catalog of the saved project, as `scan` would judge it once saved."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from tenantlint.catalog import TenantCatalog
from tenantlint.checked_settings import load_checked_settings
from tenantlint.config import Settings
from tenantlint.diagnostics import Diagnostic, Report
from tenantlint.discover import build_catalog
from tenantlint.engine import Selection, check_text, report_of
from tenantlint.files import relative
from tenantlint.fixes import Fix
from tenantlint.fixes.plan import plan_fixes
from tenantlint.why import explain_line, render_text

# Files whose change can change the catalog (or the settings) of the project they are in.
CATALOG_SUFFIXES = (".py", ".pyi", ".sql")
CONFIG_NAMES = ("pyproject.toml", "tenantlint.toml")


@dataclass
class Verdict:
    """The findings for one buffer, with the settings and catalog that produced them."""
    diagnostics: list[Diagnostic]
    settings: Settings


class Project:
    """The settings and catalog of one project; the catalog is rebuilt on demand."""

    def __init__(self, settings: Settings, jobs: int = 1) -> None:
        self.settings = settings
        self.jobs = jobs
        self._lock = threading.Lock()
        self._catalog: TenantCatalog | None = None

    def catalog(self) -> TenantCatalog:
        with self._lock:
            if self._catalog is None:
                self._catalog = build_catalog(self.settings, use_cache=True, jobs=self.jobs)
            return self._catalog

    def invalidate(self) -> None:
        """Forget the catalog; the next diagnosis rebuilds it, reading only the files
        that changed (the rest comes from the cache)."""
        with self._lock:
            self._catalog = None

    def diagnose(self, path: Path, text: str) -> Verdict:
        settings, catalog = self.settings, self.catalog()
        rel = relative(path, settings.root)
        result = check_text(text, rel, settings, catalog, sql=path.suffix == ".sql")
        selection = Selection.of(settings)
        report = report_of([result], settings, catalog, selection, scanned=1)
        return Verdict(report.diagnostics, settings)

    def explain(self, path: Path, line: int, text: str) -> str | None:
        """`tenantlint why` for a line of the buffer, or None when nothing there is judged."""
        report = explain_line(path, line, self.settings, self.catalog(), text=text)
        if not report.findings and not report.decisions:
            return None
        return render_text(report)

    def fixes(self, path: Path, text: str, diagnostics: list[Diagnostic]) -> dict[str, Fix]:
        """The verified fixes (by fingerprint) of these findings of the buffer, as
        `scan --diff --unsafe-fixes` would make them."""
        rel = relative(path, self.settings.root)
        plan = plan_fixes(Report(diagnostics=diagnostics), self.settings, self.catalog(), texts={rel: text})
        return plan.fixes


class Projects:
    """Which project a file belongs to, found as `scan` finds it (the config and the
    repository around the file's folder); one Project per (root, config)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_folder: dict[Path, Project] = {}
        self._by_root: dict[tuple[Path, Path | None], Project] = {}

    def for_path(self, path: Path) -> Project:
        folder = path.parent
        with self._lock:
            project = self._by_folder.get(folder)
            if project is None:
                settings = load_checked_settings(None, cwd=folder, targets=[str(path)])
                key = (settings.root, settings.config_file)
                project = self._by_root.setdefault(key, Project(settings))
                self._by_folder[folder] = project
            return project

    def changed(self, path: Path) -> bool:
        """Note that `path` changed on disk; True when open files may need a new answer."""
        catalog, settings = affects_catalog(path)
        with self._lock:
            if settings:
                self._by_folder.clear()  # settings are read again, and the catalog with them
                self._by_root.clear()
            elif catalog:
                for project in self._by_root.values():
                    project.invalidate()
        return catalog


def affects_catalog(path: Path) -> tuple[bool, bool]:
    """(the catalog may change, the settings may change) when `path` changes on disk."""
    if path.name in CONFIG_NAMES:
        return True, True
    return path.suffix in CATALOG_SUFFIXES, False
