"""Python files written for a newer grammar than the running interpreter's.

Analysis reads the stdlib `ast` (fast, positions on every node). When the interpreter
rejects a file, libcst (which reads Python 3.0 through 3.15 whatever runs it) is asked
whether the file is valid Python after all; if it is, the newer syntax is lowered to an
equivalent the interpreter reads, keeping every line and (but for `except A, B:`) every
column where it was, so findings land where they belong:

- `type X[T] = V`            -> `X         = V`   (PEP 695 alias: an assignment)
- `def f[T](...)`, `class C[T]` -> brackets blanked with spaces (type parameters)
- `f"{d["k"]}"` (PEP 701)    -> `f'{d["k"]}'`     (outer quotes swapped when that reads)
- `t"..."` (PEP 750)         -> `f"..."`          (a template read as an f-string)
- `except A, B:` (PEP 758)   -> `except (A, B):`

libcst is imported only here and only for a file `ast.parse` rejected: a normal scan
never loads it."""
from __future__ import annotations

import ast
import re

from tenantlint.positions import Lines

_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)

# libcst is asked only when the file shows a construct newer grammar added, and not
# when the interpreter stopped at one of its own limits (deep nesting: libcst would
# take long to say the same).
_NEWER = re.compile(r"""(?mx)
    ^[ \t]*type[ \t]+[A-Za-z_]\w*[ \t]*[=\[]            # PEP 695 alias
  | ^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w+[ \t]*\[  # type parameters
  | (?<![\w.])(?:[fFtT]|[rR][fFtT]|[fFtT][rR])['"]        # f-strings (PEP 701), t-strings
  | ^[ \t]*except\*?[ \t]+[^:(\n][^:\n]*,                # PEP 758
""")
_LIMITS = ("too many", "too deeply", "nested too deeply")
_MAX_LOWERED = 1_000_000


def parse(text: str) -> ast.Module:
    """`ast.parse(text)`, or the lowered text's tree when only the interpreter's grammar
    is too old for the file. Raises the interpreter's own error when lowering cannot help."""
    try:
        return ast.parse(text, type_comments=False)
    except SyntaxError as exc:
        if not _worth_lowering(text, exc):
            raise
        lowered = lower(text)
        if lowered is None:
            raise
        try:
            return ast.parse(lowered, type_comments=False)
        except _PARSE_ERRORS:
            raise exc from None


def _worth_lowering(text: str, exc: SyntaxError) -> bool:
    message = (exc.msg or "").lower()
    return (len(text) <= _MAX_LOWERED and not any(limit in message for limit in _LIMITS)
            and _NEWER.search(text) is not None)


def lower(text: str) -> str | None:
    """The file with its newer syntax lowered (see the module doc), or None when libcst
    rejects it too (a real syntax error) or a construct cannot be lowered in place."""
    try:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider
    except ImportError:  # pragma: no cover - libcst is a dependency
        return None
    try:
        module = cst.parse_module(text)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
    except Exception:  # noqa: BLE001 - libcst's parser errors have no common base we can rely on
        return None
    lines = Lines(text)
    collector = _collector(cst)()
    try:
        module.visit(collector)
    except RecursionError:
        return None
    edits: list[tuple[int, int, str]] = []
    strings = _Strings(cst, text, lines, positions)
    for kind, node in collector.found:
        span = positions.get(node)
        if span is None:
            return None
        start = lines.offset(span.start.line, span.start.column)
        end = lines.offset(span.end.line, span.end.column)
        original = text[start:end]
        if kind == "blank":
            replacement = _blank(original)
        elif kind == "alias":
            replacement = _alias(original, module.code_for_node(node.name))
        elif kind == "string":
            replacement = _string(strings, node, original)
        else:  # unparenthesized except tuple
            replacement = f"({original})"
        if replacement is None:
            return None
        if replacement != original:
            edits.append((start, end, replacement))
    if not edits:
        return None
    out, last = [], 0
    for start, end, replacement in sorted(edits):
        if start < last:
            return None  # overlapping lowering: give up rather than guess
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    return "".join(out)


def _collector(cst):
    class Collector(cst.CSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[str, object]] = []

        def visit_TypeAlias(self, node) -> bool:
            self.found.append(("alias", node))
            return False  # the alias statement is lowered as a whole

        def visit_TypeParameters(self, node) -> bool:
            self.found.append(("blank", node))
            return False

        def visit_FormattedString(self, node) -> bool:
            self.found.append(("string", node))
            return False  # the outermost string is lowered with what it nests

        def visit_TemplatedString(self, node) -> bool:
            self.found.append(("string", node))
            return False

        def _handler(self, node) -> None:
            if isinstance(node.type, cst.Tuple) and not node.type.lpar:
                self.found.append(("tuple", node.type))

        def visit_ExceptHandler(self, node) -> None:
            self._handler(node)

        def visit_ExceptStarHandler(self, node) -> None:
            self._handler(node)

    return Collector


def _blank(text: str) -> str | None:
    """Spaces in place of `text`, its line breaks kept as backslash continuations (each
    line of the span then still holds at least one character: the backslash)."""
    pieces = text.split("\n")
    out = []
    for index, piece in enumerate(pieces):
        if index < len(pieces) - 1:
            if not piece.rstrip("\r"):
                return None  # an empty line inside the brackets: no room for the backslash
            body = piece.rstrip("\r")
            out.append(" " * (len(body) - 1) + "\\" + piece[len(body):])
        else:
            out.append(" " * len(piece))
    return "\n".join(out)


def _alias(text: str, name: str) -> str | None:
    """`type X[T] = V` -> `X` then blanks up to the `=`: the value keeps its columns."""
    equals = _top_level_equals(text)
    if equals is None:
        return None
    head = _blank(text[:equals])
    if head is None or len(head.split("\n")[0]) < len(name):
        return None
    head = name + head[len(name):]
    return head + text[equals:]


def _top_level_equals(text: str) -> int | None:
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "=" and depth == 0:
            return index
    return None


class _Strings:
    """Requote an f- or t-string and the strings nested in it so that no string uses a
    quote character of one enclosing it (what Python before 3.12 requires); a `t`
    prefix is read as `f`. Lengths change only when a triple quote is needed."""

    def __init__(self, cst, text: str, lines: Lines, positions) -> None:
        self.cst, self.text, self.lines, self.positions = cst, text, lines, positions

    def span(self, node) -> tuple[int, int]:
        found = self.positions[node]
        return (self.lines.offset(found.start.line, found.start.column),
                self.lines.offset(found.end.line, found.end.column))

    def nested(self, node) -> list:
        found: list = []

        class Nested(self.cst.CSTVisitor):
            def visit_SimpleString(self, inner) -> bool:
                found.append(inner)
                return False

            def visit_FormattedString(self, inner) -> bool:
                found.append(inner)
                return False

            def visit_TemplatedString(self, inner) -> bool:
                found.append(inner)
                return False

        for part in node.parts:
            part.visit(Nested())
        return found

    def requote(self, node, enclosing: tuple[str, ...]) -> str | None:
        """The string's text requoted so that no enclosing quote ends it early, trying
        each quote in turn for the string and what it nests (a small backtracking search)."""
        start, end = self.span(node)
        text = self.text[start:end]
        if isinstance(node, self.cst.SimpleString):
            quote = node.quote
            body = text[len(node.prefix) + len(quote):len(text) - len(quote)]
            if _fits(quote, enclosing, body):
                return text
            if "\\" in body:
                return None  # a backslash in an f-string expression: nothing to requote to
            for other in _choices(quote):
                if _fits(other, enclosing, body):
                    return node.prefix + other + body + other
            return None
        prefix = node.prefix.replace("t", "f").replace("T", "F")
        quote = node.start[len(node.prefix):]
        literal = "".join(part.value for part in node.parts if isinstance(getattr(part, "value", None), str))
        inner = self.nested(node)
        for chosen in _choices(quote):
            if not _fits(chosen, enclosing, literal):
                continue
            out, last = [prefix + chosen], len(node.start)
            for child in inner:
                child_start, child_end = self.span(child)
                replacement = self.requote(child, (*enclosing, chosen))
                if replacement is None:
                    break
                out.append(text[last:child_start - start])
                out.append(replacement)
                last = child_end - start
            else:
                out.append(text[last:len(text) - len(node.end)])
                out.append(chosen)
                return "".join(out)
        return None


_OTHER = {"'": '"', '"': "'"}
_QUOTES = ("'", '"', "'" * 3, '"' * 3)


def _choices(quote: str) -> tuple[str, ...]:
    """The quote as written first, then the others (single before triple: columns kept)."""
    return tuple(dict.fromkeys((quote, _OTHER[quote[0]] * len(quote), *_QUOTES)))


def _fits(quote: str, enclosing: tuple[str, ...], body: str) -> bool:
    """Before 3.12 a string ends at its own quote, and a nested one may not use the
    quote character of a single-quoted string enclosing it, nor the triple quote of a
    triple-quoted one."""
    if quote in body or any(quote[0] == outer if len(outer) == 1 else quote == outer for outer in enclosing):
        return False
    return not (len(quote) == 1 and "\n" in body)


def _reads(expression: str) -> bool:
    try:
        ast.parse("(" + expression + "\n)", mode="eval")
    except _PARSE_ERRORS:
        return False
    return True


def _string(strings: _Strings, node, original: str) -> str:
    """The string as the interpreter reads it, or as written when that fails (the file
    is then reported as before)."""
    if _reads(original):
        return original
    candidate = strings.requote(node, ())
    return candidate if candidate is not None and _reads(candidate) else original
