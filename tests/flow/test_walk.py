"""The flow engine (tenantlint/flow/) on a toy family whose values are strings: which
values reach a use, on which paths."""
from __future__ import annotations

import ast
import textwrap

from tenantlint.flow import Walk, extension

OPAQUE = "?"


class Strings(Walk):
    """`x = "a"` binds {"a"}; `x += "b"` / `x.append("b")` grows each value; `use(x)`
    records the values reaching it; `if DEBUG:` is decided True, `if NEVER:` False."""

    def __init__(self, cap: int | None = None) -> None:
        super().__init__()
        if cap is not None:
            self.cap = cap
        self.uses: list[set[str]] = []
        self.widened = 0
        self.withs: list[str] = []

    def eval(self, node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return frozenset({node.value})
        if isinstance(node, ast.Name):
            return self.env.get(node.id, frozenset())
        if isinstance(node, ast.List) and len(node.elts) == 1:
            return self.eval(node.elts[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "use":
            self.uses.append(set(self.eval(node.args[0])))
            return frozenset()
        return super().eval(node)

    def extend(self, target, op, value, where):
        if isinstance(target, ast.Name) and target.id in self.env:
            self.env[target.id] = frozenset(a + b for a in self.env[target.id] for b in self.eval(value))

    def decide(self, test):
        if isinstance(test, ast.Name) and test.id in ("DEBUG", "NEVER"):
            return test.id == "DEBUG"
        return None

    def enter(self, stmt):
        self.withs.append("enter")
        return super().enter(stmt)

    def leave(self, saved):
        self.withs.append("leave")

    def widen(self, values):
        self.widened += 1
        return frozenset({OPAQUE})


def follow(code: str, family: Strings | None = None):
    family = family or Strings()
    env = family.run(ast.parse(textwrap.dedent(code)).body)
    return family, env


def test_if_without_else_joins_the_branch_with_the_path_around_it():
    family, env = follow('''
        x = "a"
        if c:
            x = "b"
        use(x)
    ''')
    assert family.uses == [{"a", "b"}]
    assert env["x"] == {"a", "b"}


def test_if_else_replaces_the_value_on_every_path():
    family, env = follow('''
        x = "a"
        if c:
            x = "b"
        elif d:
            x = "c"
        else:
            x = "d"
        use(x)
    ''')
    assert family.uses == [{"b", "c", "d"}]


def test_a_branch_that_returns_or_raises_reaches_no_later_use():
    family, _ = follow('''
        x = "a"
        if c:
            x = "b"
            use(x)
            return x
        if d:
            x = "c"
            raise ValueError(x)
        use(x)
    ''')
    assert family.uses == [{"b"}, {"a"}]


def test_every_path_ending_leaves_no_environment():
    _, env = follow('''
        x = "a"
        if c:
            return x
        else:
            raise ValueError
    ''')
    assert env is None


def test_a_decided_test_runs_one_branch():
    family, _ = follow('''
        x = "a"
        if DEBUG:
            x = "b"
        if NEVER:
            x = "c"
        use(x)
    ''')
    assert family.uses == [{"b"}]


def test_a_loop_may_run_zero_times_and_its_else_runs_after_it():
    family, _ = follow('''
        x = "a"
        for item in items:
            x += "b"
        else:
            use(x)
        while c:
            x = "c"
        use(x)
    ''')
    assert family.uses == [{"a", "ab"}, {"a", "ab", "c"}]


def test_break_and_continue_end_the_path_they_are_on():
    family, _ = follow('''
        x = "a"
        for item in items:
            x = "b"
            if c:
                break
            x = "c"
        use(x)
    ''')
    assert family.uses == [{"a", "c"}]


def test_try_handlers_start_from_before_or_after_the_body_else_after_the_body():
    family, _ = follow('''
        x = "a"
        try:
            x = "b"
        except ValueError:
            use(x)
            x = "c"
        else:
            x += "!"
        use(x)
    ''')
    assert family.uses == [{"a", "b"}, {"b!", "c"}]


def test_a_handler_that_raises_again_reaches_nothing_after_the_try():
    family, _ = follow('''
        x = "a"
        try:
            x = "b"
        except ValueError:
            x = "c"
            raise
        use(x)
    ''')
    assert family.uses == [{"b"}]


def test_finally_runs_on_every_path_even_when_all_of_them_end():
    family, env = follow('''
        x = "a"
        try:
            x = "b"
            return x
        finally:
            use(x)
    ''')
    assert env is None
    assert family.uses == [{"a"}]  # walked for its effects from before the body


def test_finally_after_the_join_of_body_and_handlers():
    family, _ = follow('''
        x = "a"
        try:
            x = "b"
        except KeyError:
            x = "c"
        finally:
            use(x)
    ''')
    assert family.uses == [{"b", "c"}]


def test_match_cases_join_with_the_path_where_no_case_matched():
    family, _ = follow('''
        x = "a"
        match value:
            case 1:
                x = "b"
            case [_, _]:
                x = "c"
                return
        use(x)
    ''')
    assert family.uses == [{"a", "b"}]


def test_match_with_a_catch_all_case_has_no_path_where_no_case_matched():
    family, _ = follow('''
        x = "a"
        match value:
            case 1:
                x = "b"
            case _:
                x = "c"
        use(x)
    ''')
    assert family.uses == [{"b", "c"}]


def test_a_guarded_catch_all_still_leaves_the_no_match_path():
    family, _ = follow('''
        x = "a"
        match value:
            case 1:
                x = "b"
            case other if other:
                x = "c"
        use(x)
    ''')
    assert family.uses == [{"a", "b", "c"}]


def test_with_body_is_walked_between_enter_and_leave():
    family, _ = follow('''
        x = "a"
        with lock:
            x = "b"
        use(x)
    ''')
    assert family.withs == ["enter", "leave"]
    assert family.uses == [{"b"}]


def test_nested_definitions_are_not_entered():
    family, env = follow('''
        x = "a"
        def inner():
            x = "z"
            use(x)
        class Inner:
            x = "y"
        use(x)
    ''')
    assert family.uses == [{"a"}]


def test_growth_in_place_append_and_augmented_assignment():
    family, _ = follow('''
        x = "a"
        x += "b"
        x.append("c")
        if d:
            x.extend("d")
        use(x)
    ''')
    assert family.uses == [{"abc", "abcd"}]


def test_extension_reads_append_and_extend_as_augmented_addition():
    call = ast.parse("conds.append(C == c)").body[0].value
    target, op, value = extension(call)
    assert isinstance(target, ast.Name) and target.id == "conds" and isinstance(op, ast.Add)
    assert isinstance(value, ast.List) and len(value.elts) == 1
    assert extension(ast.parse("conds.append(*more)").body[0].value) is None
    assert extension(ast.parse("conds.insert(0, x)").body[0].value) is None
    aug = ast.parse("q &= Q(a=1)").body[0]
    assert isinstance(extension(aug)[1], ast.BitAnd)


def test_past_the_cap_a_name_is_given_up_to_an_opaque_value():
    code = '''
        x = "a"
        if c1:
            x += "1"
        if c2:
            x += "2"
        if c3:
            x += "3"
        use(x)
    '''
    family, _ = follow(code)
    assert family.uses == [{"a", "a1", "a2", "a3", "a12", "a13", "a23", "a123"}] and not family.widened
    capped, _ = follow(code, Strings(cap=3))
    assert capped.widened
    assert capped.uses == [{OPAQUE, OPAQUE + "3"}]  # the opaque value still grows, and stays opaque
