"""The flow engine's chains (tenantlint/flow/branches.py): where code sits among the
conditional constructs around it."""
from __future__ import annotations

import ast
import textwrap

from tenantlint.flow.branches import chain_of, exclusive, loops_around, relative

CODE = textwrap.dedent('''
    if test_a:
        a = 1
    elif test_b:
        b = 1
    else:
        c = 1
    for x in xs:
        d = 1
    else:
        e = 1
    try:
        f = 1
    except KeyError:
        g = 1
    except ValueError:
        h = 1
    else:
        i = 1
    finally:
        j = 1
    try:
        k = 1
    finally:
        m = 1
    match v:
        case 1:
            n = 1
        case _:
            o = 1
''')


def chains() -> dict[str, tuple]:
    """Each assigned name -> its chain as (construct type, branch) pairs."""
    module = ast.parse(CODE)
    blocks = [n for n in ast.walk(module) if isinstance(n, (ast.If, ast.For, ast.Try, ast.Match))]
    out = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Assign):
            around = [b for b in blocks if b.lineno <= node.lineno <= b.end_lineno]
            out[node.targets[0].id] = tuple((type(b).__name__, branch) for b, branch in chain_of(around, node))
    return out


def test_chains_of_each_branch():
    found = chains()
    assert found["a"] == (("If", "body"),)
    assert found["b"] == (("If", "orelse"), ("If", "body"))  # an elif is an If in the orelse
    assert found["c"] == (("If", "orelse"), ("If", "orelse"))
    assert found["d"] == (("For", "body"),)
    assert found["e"] == (("For", "orelse"),)
    assert found["f"] == (("Try", "body"),)
    assert found["g"] == (("Try", "h0"),)
    assert found["h"] == (("Try", "h1"),)
    assert found["i"] == (("Try", "body"),)  # a try's else runs on the body's path
    assert found["j"] == ()  # finally: every path
    assert found["k"] == ()  # a try without handlers adds no condition
    assert found["m"] == ()
    assert found["n"] == (("Match", "c0"),)
    assert found["o"] == (("Match", "c1"),)


def test_tests_and_iterables_run_whenever_the_construct_is_reached():
    module = ast.parse("if x:\n    y = 1\nfor z in zs:\n    w = 1\n")
    if_, for_ = module.body
    assert chain_of([if_], if_.test) == ()
    assert chain_of([for_], for_.iter) == ()


def test_relative_exclusive_and_loops_around():
    module = ast.parse(CODE)
    if_, for_ = module.body[0], module.body[1]
    body, orelse = ((if_, "body"),), ((if_, "orelse"),)
    assert relative(body, body) is None  # same block: every path the base is on
    assert relative((), body) is None  # shallower, after it
    assert relative(body, ()) == body
    assert exclusive(body, orelse)
    assert not exclusive(((for_, "body"),), ((for_, "orelse"),))  # a loop's else runs after its body
    assert loops_around(((for_, "body"),), ()) == [for_]
    assert loops_around(((for_, "body"),), ((for_, "body"),)) == []
