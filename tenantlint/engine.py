"""Files in, Report out. Never raises on user code: a file that cannot be read or
parsed becomes a TL001 finding and the scan goes on. A crash inside a checker is our
bug, not the user's: it is raised as InternalError so the CLI fails loudly (exit 2)
rather than passing with findings silently dropped."""
from __future__ import annotations

import fnmatch
import sys
import threading
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from tenantlint.catalog import TenantCatalog
from tenantlint.config import Settings
from tenantlint.context import FileContext
from tenantlint.diagnostics import Diagnostic, Location, Report, with_fingerprints
from tenantlint.files import config_base, glob_forms, link_outside, module_name, relative
from tenantlint.errors import InternalError
from tenantlint.gc_pause import paused
from tenantlint.grammar import parse as parse_module
from tenantlint.pool import THREAD_STACK, run_in_pool
from tenantlint.rules import BY_CODE, CHECKERS, matches, rule_for
from tenantlint.rules.schema_checks import check_project
from tenantlint.source import read_source
from tenantlint.suppressions import Suppressions, python_suppressions, sql_suppressions
from tenantlint.trace import Recorder

# The checkers recurse in Python over the tree; a big thread stack and recursion limit
# let them through any code CPython itself accepts but the deepest operator chains.
_STACK_SIZE = THREAD_STACK
_RECURSION_LIMIT = 30_000


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressions: Suppressions = field(default_factory=Suppressions)
    transient: bool = False  # a verdict about this run (a worker crashed or timed out): never cached
    digest: bytes = b""  # sha256 of the bytes analyzed: the result cache keys on it (b"": nothing read)
    # (function, parameter, trusted): what the verdicts took from other files' calls
    # (tenantlint/caller_trust.py); a cached result is reused only while these still hold
    answers: tuple = ()


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    base: str = ""  # the config's folder under the project root (see files.glob_forms)

    @classmethod
    def of(cls, settings: Settings, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> "Selection":
        """The config's selection; `select` (replacing) and `ignore` (adding) from the command line."""
        return cls(select or settings.select, settings.ignore + ignore, settings.per_file_ignores,
                   config_base(settings))

    def wants(self, code: str, path: str = "") -> bool:
        # A file that was not analyzed is reported whatever is selected (as ruff does with
        # syntax errors): only ignoring TL001 by its exact code silences it.
        if code == "TL001":
            return "TL001" not in self.ignore and not any(
                _glob_matches(path, glob, self.base) and "TL001" in codes for glob, codes in self.per_file_ignores)
        if self.select and not matches(code, self.select):
            return False
        if matches(code, self.ignore):
            return False
        for glob, codes in self.per_file_ignores:
            if _glob_matches(path, glob, self.base) and matches(code, codes):
                return False
        return True


def _glob_matches(path: str, glob: str, base: str = "") -> bool:
    """As ruff: a pattern matches the relative path, or the file name alone."""
    return any(fnmatch.fnmatch(form, glob) for form in glob_forms(path, base)) or \
        fnmatch.fnmatch(path.rsplit("/", 1)[-1], glob)


def parse_error(path: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    rule = rule_for("TL001")
    return Diagnostic(code="TL001", name=rule.name, severity=rule.severity, message=message, path=path,
                      location=Location(line, column, line, column), snippet=message, suppress_lines=(line, line))


def check_file(path: Path, settings: Settings, catalog: TenantCatalog, *, isolate: bool = False,
               trace: Recorder | None = None) -> FileResult:
    """One file's findings. With `isolate` (the in-process serial mode), a file that looks
    able to crash or hang the parser is analyzed in a watched subprocess instead. With
    `trace` (`tenantlint why`), the checkers record what decided each verdict there."""
    rel = relative(path, settings.root)
    escapes = link_outside(path, settings.root)
    if escapes:
        return FileResult(rel, [parse_error(rel, escapes)])
    source = read_source(path, settings.max_file_size)
    if source.text is None:
        return FileResult(rel, [parse_error(rel, source.error)], digest=source.digest)
    result = check_text(source.text, rel, settings, catalog, sql=path.suffix == ".sql", path=path if isolate else None,
                        trace=trace)
    # Stamped with what was read, not what the file holds by the time it is cached: an
    # edit during the scan must not file this result under the new content's key.
    result.digest = result.digest or source.digest
    return result


def check_text(text: str, rel: str, settings: Settings, catalog: TenantCatalog, *, sql: bool = False,
               path: Path | None = None, trace: Recorder | None = None) -> FileResult:
    """One file's findings from its text (an editor's unsaved buffer, or what was read)."""
    if sql:
        from tenantlint.sqlfile import check_sql_file

        result = FileResult(rel, check_sql_file(text, rel, settings, catalog, trace=trace), sql_suppressions(text))
    else:
        result = _check_python(text, rel, settings, catalog, path=path, trace=trace)
    return _pin_parse_errors(result, text)


def _pin_parse_errors(result: FileResult, text: str) -> FileResult:
    """A TL001's fingerprint covers the file's content: a baseline that accepted one
    broken version of a file must not silence the next one (never analyzed either)."""
    if any(d.code == "TL001" for d in result.diagnostics):
        import hashlib

        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        result.diagnostics = [replace(d, snippet=f"{d.snippet}|{digest}") if d.code == "TL001" else d
                              for d in result.diagnostics]
    return result


# A file this large may need GBs of syntax tree: in serial mode it is analyzed in a
# watched subprocess with a memory cap (on the pool every worker is watched anyway).
_RISKY_SIZE = 1_000_000


def _check_python(text: str, rel: str, settings: Settings, catalog: TenantCatalog,
                  path: Path | None = None, trace: Recorder | None = None) -> FileResult:
    from tenantlint.screen import wanted

    if path is not None and len(text) > _RISKY_SIZE:
        return check_isolated(path, settings, catalog)
    suppressions = python_suppressions(text)
    checkers = wanted(text, catalog, settings)
    return _run_deep(lambda: _check_tree(text, rel, settings, catalog, checkers, suppressions, trace))


def _run_deep(job):
    """Run `job` on a thread with a large stack and a high recursion limit, the garbage
    collector paused (a syntax tree is millions of small acyclic objects)."""
    box: dict = {}

    def target() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, _RECURSION_LIMIT))
        try:
            box["value"] = job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size()
    with paused():
        try:
            try:
                threading.stack_size(_STACK_SIZE)
                # A daemon: Ctrl-C (raised in join below) must not wait for a long parse to end.
                thread = threading.Thread(target=target, name="tenantlint-parse", daemon=True)
                thread.start()
            except (RuntimeError, MemoryError, ValueError):  # no room for a big stack: run here, shallower
                threading.stack_size(previous)
                return job()
            threading.stack_size(previous)
            thread.join()
        finally:
            threading.stack_size(previous)
    if "error" in box:
        raise box["error"]
    return box["value"]


def parse_python(text: str):
    """The stdlib `ast` tree of a file, or the SyntaxError-like exception that stops it.
    CPython's parser guards its own depth: it raises, it does not crash. A file only a
    newer grammar reads is lowered first (tenantlint.grammar)."""
    try:
        return parse_module(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return exc


def _check_tree(text: str, rel: str, settings: Settings, catalog: TenantCatalog, checkers,
                suppressions, trace: Recorder | None = None) -> FileResult:
    from tenantlint.visit import walk_batched

    tree = parse_python(text)
    if isinstance(tree, BaseException):
        return FileResult(rel, [_parse_failure(rel, tree)], suppressions)
    if not checkers:
        return FileResult(rel, [], suppressions)  # parses, and nothing here can produce a finding
    try:
        ctx = FileContext(path=rel, source=text, settings=settings, catalog=catalog, module=tree,
                          module_name=module_name(rel))
        ctx.trace = trace
        running = [checker(ctx) for checker in checkers]
        walk_batched(tree, running)
        for current in running:
            current.finish()
    except RecursionError:
        return FileResult(rel, [parse_error(rel, "code nested too deeply to analyze")], suppressions)
    except MemoryError:
        return FileResult(rel, [parse_error(rel, "ran out of memory while analyzing: not analyzed")], suppressions)
    except Exception as exc:  # noqa: BLE001
        raise InternalError(f"internal error while checking {rel}: {type(exc).__name__}: {exc}") from exc
    return FileResult(rel, ctx.diagnostics, suppressions,
                      answers=tuple((f, p, a) for (f, p), a in sorted(ctx.caller_answers.items())))


def _parse_failure(rel: str, exc: BaseException) -> Diagnostic:
    if isinstance(exc, SyntaxError):
        # The running interpreter's grammar: newer syntax needs tenantlint run on a newer Python.
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        return parse_error(rel, f"syntax error: {exc.msg} (read as Python {version})", exc.lineno or 1,
                           exc.offset or 1)
    if isinstance(exc, RecursionError):
        return parse_error(rel, "code nested too deeply to parse")
    if isinstance(exc, MemoryError):
        return parse_error(rel, "ran out of memory while parsing: not analyzed")
    return parse_error(rel, f"cannot parse: {type(exc).__name__}: {exc}")


def scan(paths: Sequence[Path], settings: Settings, catalog: TenantCatalog, *, selection: Selection | None = None,
         jobs: int = 1, warn_unused_ignores: bool = False, progress: Callable[[str], None] | None = None,
         use_cache: bool = False) -> Report:
    """Check every file, add the project-level (schema) findings for those files, apply
    suppressions and selection, and fingerprint what is left. `progress(path)` is called
    as each file is done (the CLI's progress bar)."""
    selection = selection or Selection.of(settings)
    results = []
    for result in _check_all(paths, settings, catalog, jobs, use_cache):
        results.append(result)
        if progress is not None:
            progress(result.path)
    by_path = {r.path: r for r in results}
    scanned = len(results)
    # A file the catalog could not read makes every other file's answer uncertain: it is
    # reported whether or not it was named (a pre-commit run on views.py must not pass
    # because models.py stopped parsing).
    for gap in catalog.gaps:
        if gap.path not in by_path:
            message = (f"{gap.reason}: the tenant tables and models it may define are unknown, "
                       "so findings in other files may be missing")
            by_path[gap.path] = FileResult(gap.path, [parse_error(gap.path, message, gap.line)])
            results.append(by_path[gap.path])
    return report_of(results, settings, catalog, selection, scanned=scanned, warn_unused_ignores=warn_unused_ignores)


def report_of(results: list[FileResult], settings: Settings, catalog: TenantCatalog, selection: Selection, *,
              scanned: int, warn_unused_ignores: bool = False) -> Report:
    """The project-level (schema) findings for these files, then suppressions, selection
    and fingerprints: what `scan` and the editor server both report."""
    by_path = {r.path: r for r in results}
    for diag in check_project(catalog, settings):
        if diag.path in by_path:
            by_path[diag.path].diagnostics.append(diag)

    report = Report(files_scanned=scanned, root=str(settings.root))
    kept: list[Diagnostic] = []
    for result in results:
        for diag in result.diagnostics:
            if diag.code != "TL001" and result.suppressions.silences(diag):
                report.suppressed += 1
                continue
            kept.append(diag)
        kept.extend(_suppression_findings(result, settings, warn_unused_ignores))
    kept = [d for d in kept if selection.wants(d.code, d.path)]
    report.diagnostics = with_fingerprints(kept)
    return report


def _suppression_findings(result: FileResult, settings: Settings, warn_unused: bool) -> Iterable[Diagnostic]:
    rule = rule_for("TL003")
    for sup in result.suppressions.all():
        message = None
        unknown = sorted(c for c in sup.codes or () if not any(k.startswith(c) for k in BY_CODE))
        if unknown:
            message = f"suppression names unknown rule code{'s' if len(unknown) > 1 else ''} `{', '.join(unknown)}`"
        elif sup.codes is not None and not sup.codes:
            message = "suppression names no rule code: it silences nothing (name the codes, e.g. ignore[TL101])"
        elif warn_unused and not sup.used:
            which = ",".join(sorted(sup.codes)) if sup.codes else "all codes"
            message = f"unused suppression: nothing here is reported for {which}"
        elif settings.require_reason and not sup.reason:
            message = "suppression without a reason: add why after the bracket"
        if message:
            yield Diagnostic(code="TL003", name=rule.name, severity=rule.severity, message=message,
                             path=result.path, location=Location(sup.line, sup.column, sup.line, sup.column),
                             snippet=message, suppress_lines=(0, 0))


def _check_all(paths: Sequence[Path], settings: Settings, catalog: TenantCatalog, jobs: int,
               use_cache: bool = False) -> Iterator[FileResult]:
    """FileResults in input order: cached ones first looked up, the rest computed in
    process (one job or a small scan) or on the watched pool, then cached."""
    cache = None
    if use_cache:
        from tenantlint.cache import ResultCache

        cache = ResultCache(settings, catalog)
        if not cache.usable:
            cache = None
    hits: dict[int, FileResult] = {}
    todo: list[Path] = []
    for index, path in enumerate(paths):
        key = cache.key(path, relative(path, settings.root)) if cache is not None else None
        hit = cache.get(key) if key is not None else None
        if isinstance(hit, FileResult) and (not hit.answers or catalog.caller_trust is not None and
                                            catalog.caller_trust.holds(hit.answers)):
            hits[index] = hit
        else:
            todo.append(path)
    computed = _compute(todo, settings, catalog, jobs)
    for index in range(len(paths)):
        result = hits.get(index)
        if result is None:
            result = next(computed)
            if cache is not None and result.digest:
                # Keyed by the digest of the bytes the analysis read (the lookup above
                # read the file too, and it may have changed in between).
                cache.put(cache.key_for(result.path, result.digest), result)
        yield result
    if cache is not None:
        cache.store.prune()


def _compute(paths: Sequence[Path], settings: Settings, catalog: TenantCatalog, jobs: int) -> Iterator[FileResult]:
    if jobs <= 1 or len(paths) < 32:
        for path in paths:
            yield check_file(path, settings, catalog, isolate=True)
        return
    yield from check_in_pool(paths, settings, catalog, jobs)


def check_in_pool(paths: Sequence[Path], settings: Settings, catalog: TenantCatalog, jobs: int, *,
                  timeout: float | None = None, memory: int | None = None) -> Iterator[FileResult]:
    """FileResults for `paths`, in order, computed on `jobs` watched worker processes
    (tenantlint.pool): a file whose worker crashed, stalled or ran out of memory is a TL001."""
    def failed(path: Path, why: str) -> FileResult:
        rel = relative(path, settings.root)
        return FileResult(rel, [parse_error(rel, f"{why}: not analyzed")], transient=True)

    return run_in_pool(paths, partial(check_file, settings=settings, catalog=catalog), failed, jobs,
                       timeout=timeout, memory=memory)


def check_isolated(path: Path, settings: Settings, catalog: TenantCatalog) -> FileResult:
    """One risky file, analyzed on a watched worker process (the serial mode's shield)."""
    return next(iter(check_in_pool([path], settings, catalog, 1)))


__all__ = ["scan", "check_file", "check_text", "report_of", "Selection", "InternalError", "FileResult", "replace"]
