"""A small Cypher reader: what TL406 needs to know about a query, nothing more.

No maintained, light Python Cypher parser was found (the candidates on PyPI are ANTLR
grammars with a heavy runtime, Rust bindings that validate against a schema, or young
transpilers), so this module reads the few things the tenant check asks for:

* the node patterns of `MATCH`, `OPTIONAL MATCH`, `MERGE` and `CREATE` clauses: variable,
  labels (`:A:B`, `:A|B`), property map entries (`{user_id: $uid}`), and which nodes of a
  path are tied to each other by a relationship;
* the top-level conjuncts of each `WHERE` (after a pattern or a `WITH`): `n.prop = value`,
  `n.prop IN value`, `n.prop = m.prop`, `n:Label`; a property that appears under `OR`,
  `XOR`, `NOT`, `<>` or `IS [NOT] NULL` is recorded as weakened;
* nodes yielded by a vector or full-text index procedure (`CALL db.index.vector.queryNodes(
  ...) YIELD node`): they come from every tenant's nodes;
* `UNION` branches (each judged on its own) and `CALL { ... }` subqueries (read inline).

Text that cannot be read raises CypherError. Python f-string holes arrive as identifiers
named `__tlhole<N>__` (see `tenantlint/sql/recover.py`): a hole in a label is an unknown
label, a hole in a value is a value."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

HOLE = re.compile(r"__tlhole\d+__")


class CypherError(ValueError):
    """The text is not Cypher this reader understands."""


@dataclass(frozen=True)
class Value:
    """The right-hand side of a property entry or comparison. `kind`: param | literal |
    null | prop (`var.prop`) | hole | expr."""

    kind: str
    var: str = ""
    prop: str = ""


@dataclass
class Node:
    var: str
    labels: tuple[str, ...]
    props: dict[str, Value]
    clause: str  # MATCH | OPTIONAL MATCH | MERGE | CREATE | CALL (an index procedure)
    opaque_props: bool = False  # `(n $props)`: a map passed as one parameter


@dataclass
class Relationship:
    """A relationship pattern with a variable or properties, between two node occurrences."""

    left: int
    right: int
    var: str
    props: dict[str, Value]


@dataclass
class Part:
    """One branch of a query (a UNION splits a query into parts)."""

    nodes: list[Node] = field(default_factory=list)
    links: list[tuple[int, int]] = field(default_factory=list)  # indices into `nodes`
    relationships: list[Relationship] = field(default_factory=list)
    # top-level WHERE conjuncts: (var, prop, operator, value); operator "=" or "in"
    conjuncts: list[tuple[str, str, str, Value]] = field(default_factory=list)
    weakened: set[tuple[str, str]] = field(default_factory=set)  # (var, prop) under OR/NOT/<>/IS NULL
    where_labels: dict[str, set[str]] = field(default_factory=dict)  # `WHERE n:Label`
    holes: bool = False  # an interpolated piece in a WHERE or among patterns: a predicate may hide there


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`[^`]*`)
  | (?P<param>\$(?:\w+|`[^`]*`))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][\w]*)
  | (?P<op><>|<=|>=|=~|\+=|\.\.|[-<>()\[\]{},:.|=+*/%^;&!?])
""", re.S | re.X)

_CLAUSES = {"MATCH", "OPTIONAL", "MERGE", "CREATE", "WHERE", "WITH", "RETURN", "UNWIND", "DELETE", "DETACH",
            "SET", "REMOVE", "CALL", "UNION", "ORDER", "SKIP", "LIMIT", "ON", "FOREACH", "YIELD", "LOAD", "USE",
            "FINISH", "NODETACH"}
_PATTERN_CLAUSES = {"MATCH", "OPTIONAL MATCH", "MERGE", "CREATE"}
_STARTS = {"MATCH", "OPTIONAL", "MERGE", "CREATE", "WITH", "UNWIND", "CALL", "RETURN", "USE", "LOAD", "FOREACH",
           "DETACH", "DELETE", "SET", "REMOVE"}
_LITERALS = {"TRUE", "FALSE"}
_INDEX_PROCEDURES = ("querynodes",)  # db.index.vector.queryNodes, db.index.fulltext.queryNodes


@dataclass(frozen=True)
class Token:
    kind: str  # string | quoted | param | number | word | op
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """An identifier's name (backticks removed)."""
        return self.text[1:-1] if self.kind == "quoted" else self.text


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise CypherError(f"unexpected character {text[pos]!r}")
        pos = match.end()
        kind = match.lastgroup
        if kind != "space":
            out.append(Token(kind, match.group()))
    return out


def read(text: str) -> list[Part]:
    """The parts of a query (one per UNION branch)."""
    tokens = _open_subqueries(tokenize(text))
    if not tokens or tokens[0].upper not in _STARTS:
        raise CypherError("does not start with a clause")
    _check_balanced(tokens)
    parts: list[Part] = [Part()]
    index_call = False
    for name, body in _clauses(tokens):
        part = parts[-1]
        if name == "WHERE" and any(HOLE.fullmatch(t.text) for t in body):
            part.holes = True  # an interpolated predicate may or may not scope (not one in RETURN)
        if name == "UNION":
            parts.append(Part())
        elif name in _PATTERN_CLAUSES:
            _patterns(body, name, part)
        elif name == "WHERE":
            _where(body, part)
        elif name == "CALL":
            index_call = _index_procedure(body)
            continue
        elif name == "YIELD" and index_call:
            _yield(body, part)
        index_call = False
    return parts


def _open_subqueries(tokens: list[Token]) -> list[Token]:
    """`CALL { ... }`: the braces of a subquery are dropped, its clauses read inline."""
    out: list[Token] = []
    stack: list[bool] = []  # for each open brace: is it a subquery's
    for i, tok in enumerate(tokens):
        if tok.text == "{":
            sub = bool(out) and out[-1].upper == "CALL"
            stack.append(sub)
            if sub:
                out.pop()
                continue
        elif tok.text == "}" and stack:
            if stack.pop():
                continue
        out.append(tok)
    return out


def _check_balanced(tokens: list[Token]) -> None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for tok in tokens:
        if tok.kind != "op":
            continue
        if tok.text in "([{":
            stack.append(tok.text)
        elif tok.text in pairs:
            if not stack or stack.pop() != pairs[tok.text]:
                raise CypherError("unbalanced brackets")
    if stack:
        raise CypherError("unbalanced brackets")


def _clauses(tokens: list[Token]):
    """(clause name, its tokens) at bracket depth 0."""
    depth = 0
    name, body = "", []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        word = tok.upper
        if tok.kind == "op":
            if tok.text in "([{":
                depth += 1
            elif tok.text in ")]}":
                depth -= 1
        if depth == 0 and word in _CLAUSES and not _inside_expression(tokens, i):
            if name or body:
                yield name, body
            name, body = word, []
            following = tokens[i + 1].upper if i + 1 < len(tokens) else ""
            if word == "OPTIONAL" and following == "MATCH":
                name, i = "OPTIONAL MATCH", i + 1
            elif word == "DETACH" and following == "DELETE":
                name, i = "DELETE", i + 1
            elif word == "ON" and following in ("CREATE", "MATCH"):
                name, i = "SET", i + 2 if i + 2 < len(tokens) and tokens[i + 2].upper == "SET" else i + 1
            elif word in ("ORDER",) and following == "BY":
                i += 1
            elif word == "UNION" and following == "ALL":
                i += 1
            i += 1
            continue
        body.append(tok)
        i += 1
    if name or body:
        yield name, body


def _inside_expression(tokens: list[Token], i: int) -> bool:
    """`STARTS WITH`, `ENDS WITH`, a map key or property named like a clause (`n.set`)."""
    prev = tokens[i - 1] if i else None
    if prev is None:
        return False
    if tokens[i].upper == "WITH" and prev.upper in ("STARTS", "ENDS"):
        return True
    if prev.text in (".", ":"):
        return True
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    return following is not None and following.text == ":" and tokens[i].upper not in ("MATCH", "MERGE", "CREATE")


# -- patterns ---------------------------------------------------------------------------
def _patterns(body: list[Token], clause: str, part: Part) -> None:
    i = 0
    previous: int | None = None  # the last node of the current path
    related = False  # a relationship since that node
    relation: tuple[str, dict[str, Value]] = ("", {})  # its variable and property map
    while i < len(body):
        tok = body[i]
        if tok.text == "(":
            node, end = _node(body, i, clause)
            if node is None:
                i += 1  # `shortestPath(` and other wrappers: read what is inside
                continue
            part.nodes.append(node)
            index = len(part.nodes) - 1
            if previous is not None and related:
                part.links.append((previous, index))
                if relation[0] or relation[1]:
                    part.relationships.append(Relationship(previous, index, *relation))
            previous, related, relation = index, False, ("", {})
            i = end
            continue
        if HOLE.fullmatch(tok.text):
            part.holes = True  # an interpolated pattern piece (`MATCH (n) {more}`)
        if tok.text == ",":
            previous, related = None, False
        elif tok.text in ("-", "<", ">"):
            related = previous is not None
        elif tok.text == "[":
            end = _skip(body, i, "[", "]")
            relation = _relation(body[i + 1:end - 1])
            i = end
            continue
        elif tok.upper == "WHERE":  # a WHERE inside a node pattern is not at depth 0 here
            break
        i += 1


def _relation(tokens: list[Token]) -> tuple[str, dict[str, Value]]:
    """`e:TYPE|OTHER *1..3 {k: v}` inside a relationship's brackets: (variable, properties)."""
    var = tokens[0].name if tokens and _ident(tokens[0]) else ""
    props: dict[str, Value] = {}
    for k, tok in enumerate(tokens):
        if tok.text == "{":
            props = _map(tokens[k + 1:_skip(tokens, k, "{", "}") - 1])
            break
    return var, props


def _skip(tokens: list[Token], i: int, opening: str, closing: str) -> int:
    depth = 0
    while i < len(tokens):
        if tokens[i].text == opening:
            depth += 1
        elif tokens[i].text == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise CypherError(f"missing {closing!r}")


def _ident(tok: Token | None) -> bool:
    return tok is not None and tok.kind in ("word", "quoted")


def _node(tokens: list[Token], i: int, clause: str) -> tuple[Node | None, int]:
    """A node pattern starting at `(`, or (None, i) when it is something else."""
    j = i + 1
    var = ""
    labels: list[str] = []
    props: dict[str, Value] = {}
    opaque = False
    tok = tokens[j] if j < len(tokens) else None
    if _ident(tok) and not (tok.kind == "word" and j + 1 < len(tokens) and tokens[j + 1].text == "("):
        var = tok.name
        j += 1
    while j < len(tokens) and tokens[j].text in (":", "|", "&"):
        label = tokens[j + 1] if j + 1 < len(tokens) else None
        if not _ident(label):
            if label is not None and label.text == "!":  # `:!Label`
                j += 1
                continue
            return None, i
        labels.append(label.name)
        j += 2
    if j < len(tokens) and tokens[j].text == "{":
        end = _skip(tokens, j, "{", "}")
        props = _map(tokens[j + 1:end - 1])
        j = end
    elif j < len(tokens) and tokens[j].kind == "param":
        opaque = True
        j += 1
    if j < len(tokens) and tokens[j].upper == "WHERE":
        depth = 0
        while j < len(tokens) and not (tokens[j].text == ")" and depth == 0):
            depth += {"(": 1, ")": -1}.get(tokens[j].text, 0)
            j += 1
    if j < len(tokens) and tokens[j].text == ")":
        if not var and not labels and not props and not opaque and j == i + 1:
            return Node("", (), {}, clause), j + 1  # `()`
        if var or labels or props or opaque:
            return Node(var, tuple(labels), props, clause, opaque), j + 1
    return None, i


def _map(tokens: list[Token]) -> dict[str, Value]:
    """`key: value, ...` of a property map."""
    out: dict[str, Value] = {}
    for entry in _split(tokens, ","):
        if len(entry) >= 3 and _ident(entry[0]) and entry[1].text == ":":
            out[entry[0].name] = _value(entry[2:])
        elif entry:
            raise CypherError("unreadable property map")
    return out


def _depths(tokens: list[Token]):
    """(token, bracket depth once the token is read): a bracket itself is never at depth 0."""
    depth = 0
    for tok in tokens:
        if tok.kind == "op" and tok.text in "([{":
            depth += 1
        elif tok.kind == "op" and tok.text in ")]}":
            depth -= 1
            yield tok, depth + 1
            continue
        yield tok, depth


def _split(tokens: list[Token], separator: str) -> list[list[Token]]:
    """Split at `separator` (a punctuation or a keyword) at bracket depth 0."""
    out: list[list[Token]] = [[]]
    for tok, depth in _depths(tokens):
        if depth == 0 and (tok.text == separator or tok.upper == separator):
            out.append([])
        else:
            out[-1].append(tok)
    return [chunk for chunk in out if chunk] if len(out) > 1 else out


def _value(tokens: list[Token]) -> Value:
    while len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")" and \
            _skip(tokens, 0, "(", ")") == len(tokens):
        tokens = tokens[1:-1]
    if len(tokens) == 1:
        tok = tokens[0]
        if tok.kind == "param":
            return Value("param")
        if tok.kind in ("string", "number") or tok.upper in _LITERALS:
            return Value("literal")
        if tok.upper == "NULL":
            return Value("null")
        if HOLE.fullmatch(tok.text):
            return Value("hole")
    if len(tokens) == 3 and _ident(tokens[0]) and tokens[1].text == "." and _ident(tokens[2]):
        return Value("prop", tokens[0].name, tokens[2].name)
    return Value("expr")


# -- WHERE --------------------------------------------------------------------------------
_WEAKENING = {"OR", "XOR"}


def _where(tokens: list[Token], part: Part) -> None:
    for tok, depth in _depths(tokens):
        if depth == 0 and tok.upper in _WEAKENING:
            part.weakened.update(_mentions(tokens))
            return
    for conjunct in _split(tokens, "AND"):
        _conjunct(conjunct, part)


def _mentions(tokens: list[Token]) -> set[tuple[str, str]]:
    return {(tokens[k].name, tokens[k + 2].name) for k in range(len(tokens) - 2)
            if _ident(tokens[k]) and tokens[k + 1].text == "." and _ident(tokens[k + 2])
            and (k == 0 or tokens[k - 1].text != ".")}


def _conjunct(tokens: list[Token], part: Part) -> None:
    while len(tokens) >= 2 and tokens[0].text == "(" and _skip(tokens, 0, "(", ")") == len(tokens):
        tokens = tokens[1:-1]
    chunks = _split(tokens, "AND")
    if len(chunks) > 1:  # a parenthesized conjunction
        for inner in chunks:
            _conjunct(inner, part)
        return
    if not tokens:
        return
    if tokens[0].upper == "NOT" or any(t.upper in ("IS", "<>") or t.text == "<>" for t in tokens) \
            or any(t.upper in _WEAKENING for t in tokens):
        part.weakened.update(_mentions(tokens))
        return
    if len(tokens) >= 3 and _ident(tokens[0]) and tokens[1].text == ":" and all(
            _ident(t) or t.text in (":", "|") for t in tokens[1:]):
        part.where_labels.setdefault(tokens[0].name, set()).update(
            t.name for t in tokens[2:] if _ident(t))
        return
    for k, tok in enumerate(tokens):
        if tok.text == "=" or tok.upper == "IN":
            left, right = tokens[:k], tokens[k + 1:]
            op = "=" if tok.text == "=" else "in"
            lhs, rhs = _value(left), _value(right)
            if lhs.kind == "prop":
                part.conjuncts.append((lhs.var, lhs.prop, op, rhs))
            if rhs.kind == "prop" and op == "=":
                part.conjuncts.append((rhs.var, rhs.prop, op, lhs))
            return


# -- procedures -------------------------------------------------------------------------
def _index_procedure(tokens: list[Token]) -> bool:
    """`CALL db.index.vector.queryNodes(...)`: reads an index over every tenant's nodes."""
    opening = next((k for k, t in enumerate(tokens) if t.text == "("), len(tokens))
    name = "".join(t.text for t in tokens[:opening]).lower()
    return name.endswith(_INDEX_PROCEDURES)


def _yield(tokens: list[Token], part: Part) -> None:
    """`YIELD node, score` / `YIELD node AS n`: the yielded node is a node read."""
    for item in _split(tokens, ","):
        if item and item[0].name == "node":
            var = item[2].name if len(item) == 3 and item[1].upper == "AS" else "node"
            part.nodes.append(Node(var, (), {}, "CALL"))
