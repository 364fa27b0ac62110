"""Arguments passed in a `**dict` built in the same scope, and which values of a name reach
a use along the paths of a function."""
from __future__ import annotations

import ast
import textwrap

import pytest

from project_scan import lines, scan_project
from tenantlint.stores.dicts import escaping_names


def codes(tmp_path, source: str) -> list[tuple[int, str]]:
    return lines(scan_project(tmp_path, {"mod.py": source}))


PINECONE = """
    from pinecone import Pinecone
    index = Pinecone().Index("docs")
    def f(tenant_id, v, flag, other):
{body}
        return index.query(vector=v, **kw)
"""


def judged(tmp_path, body: str) -> bool:
    """Whether the query at the end of `body` is reported (TL402)."""
    source = PINECONE.format(body=textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8))
    found = codes(tmp_path, source)
    assert all(code == "TL402" for _line, code in found), found
    return bool(found)


@pytest.mark.parametrize("body, reported", [
    ('kw = {"namespace": tenant_id}', False),
    ('kw = {"top_k": 3}', True),
    ('kw = {"namespace": "docs"}', True),
    ('kw = dict(namespace=tenant_id, top_k=3)', False),
    ('kw = dict(other, namespace=tenant_id)', False),  # a keyword after `other` wins
    ('kw = dict(namespace=tenant_id, **other)', False),  # `other` cannot repeat it (TypeError)
    ('kw = dict(other, top_k=3)', True),  # `other` may hold a namespace
    ('kw = {**other, "namespace": tenant_id}', False),
    ('kw = {"namespace": tenant_id, **other}', True),
    ('kw = {"filter": {"tenant_id": {"$eq": tenant_id}}}', False),
    ('kw = {}\nkw["namespace"] = tenant_id', False),
    ('kw = {}\nkw["namespace"] = tenant_id\nkw["top_k"] = 3', False),
    ('kw = {"namespace": tenant_id}\nkw["namespace"] = "docs"', True),
    ('kw = {}\nkw.update(namespace=tenant_id)', False),
    ('kw = {}\nkw.update({"namespace": tenant_id})', False),
    ('kw = {}\nkw.update(other)', True),  # unknown update: not read
    ('kw = {"namespace": tenant_id}\nkw.update(other)', True),
    ('kw = {"namespace": tenant_id}\nkw.setdefault("top_k", 3)', True),
    ('kw = {"namespace": tenant_id}\ndel kw["namespace"]', True),
    ('kw = {"namespace": tenant_id}\nlog(kw)', True),  # passed on: may be changed
    ('kw = {"namespace": tenant_id}\nalias = kw', True),
    ('kw = {"namespace": tenant_id}\nkw |= other', True),
    ('kw = {"namespace": tenant_id}\nkw[other] = 1', True),
    ('kw = {"namespace": tenant_id, "filter": {}}\nkw["filter"]["x"] = 1', True),
    ('kw = {"namespace": tenant_id}\nif "top_k" in kw:\n    n = kw["top_k"] + kw.get("x", 0)', False),
    ('kw = {"namespace": tenant_id}\ndef g():\n    kw["namespace"] = "docs"', True),
    # paths: a key set only on some paths leaves the others unscoped
    ('kw = {}\nif flag:\n    kw["namespace"] = tenant_id', True),
    ('kw = {}\nfor x in other:\n    kw["namespace"] = tenant_id', True),
    ('kw = {}\nif flag:\n    kw["namespace"] = tenant_id\nelse:\n    kw["namespace"] = other.tenant_id', False),
    ('kw = {}\nif flag:\n    kw["namespace"] = tenant_id\nelse:\n    kw["top_k"] = 3', True),
    ('kw = {"namespace": tenant_id}\nif flag:\n    kw["top_k"] = 3', False),
    ('kw = {}\nif flag:\n    kw["namespace"] = tenant_id\n    kw["top_k"] = 3', True),
    ('kw = {}\nif flag:\n    if other:\n        kw["namespace"] = tenant_id\n    else:\n        kw["namespace"] = tenant_id', True),
    ('if flag:\n    kw = {"namespace": tenant_id}\nelse:\n    kw = {"top_k": 3}', True),
    ('if flag:\n    kw = {"namespace": tenant_id}\nelse:\n    kw = {"namespace": other.tenant_id}', False),
])
def test_dict_passed_as_kwargs(tmp_path, body, reported):
    assert judged(tmp_path, body) == reported


def test_module_level_dict_is_not_read_in_a_function(tmp_path):
    assert codes(tmp_path, """
        from pinecone import Pinecone
        index = Pinecone().Index("docs")
        KW = {"namespace": "docs"}
        KW["namespace"] = tenant_id = "t"
        def f(v):
            return index.query(vector=v, **KW)
    """) == [(7, "TL402")]


def test_keys_passed_as_kwargs(tmp_path):
    assert codes(tmp_path, """
        import redis
        r = redis.Redis()
        def f(tenant_id, user_id):
            r.set(**{"name": f"user:{user_id}", "value": 1})
            ok = {"name": f"tenant:{tenant_id}:user:{user_id}", "value": 1}
            r.set(**ok)
    """) == [(5, "TL401")]


@pytest.mark.parametrize("source, escaped", [
    ("kw = {}\nf(**kw)\nkw['a'] = 1\nx = kw['a']\nkw.get('a')\n'a' in kw", False),
    ("kw.update(a=1)", False),
    ("kw.update({'a': 1}, b=2)", False),
    ("f(kw)", True),
    ("kw.pop('a')", True),
    ("x = kw.update(a=1)", True),  # not a statement of its own
    ("kw.update(other)", True),
    ("kw['a'], b = 1, 2", True),
    ("kw['a'] += 1", True),
    ("kw['a'].append(1)", True),
    ("del kw['a']", True),
    ("kw == {}", True),
    ("(kw := {})", True),
    ("def g():\n    return kw", True),
    ("lambda: kw", True),
])
def test_escaping_names(source, escaped):
    """Whether `kw` is used, in a function, in a way the walk does not follow."""
    func = ast.parse("def scope():\n" + textwrap.indent(source, "    ")).body[0]
    assert ("kw" in escaping_names(func)) == escaped


# -- which values of a plain name reach a use ---------------------------------------------
REDIS = """
    import redis
    r = redis.Redis()
    def f(tenant_id, user_id, a, b):
{body}
        return r.get(key)
"""


def key_reported(tmp_path, body: str) -> bool:
    source = REDIS.format(body=textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8))
    return bool(codes(tmp_path, source))


@pytest.mark.parametrize("body, reported", [
    # rebound twice in the branch: the path around it still has the first value
    ('key = f"user:{user_id}"\nif a:\n    key = f"tenant:{tenant_id}:x"\n    key = f"tenant:{tenant_id}:y"', True),
    # `+=` after a branch: every value that reaches it is extended
    ('key = f"user:{user_id}"\nif a:\n    key = f"tenant:{tenant_id}"\nkey += ":x"', True),
    ('key = f"tenant:{tenant_id}"\nif a:\n    key += ":x"', False),
    # both branches of an `if` bind it: the value before does not reach
    ('key = None\nif a:\n    key = f"tenant:{tenant_id}:a"\nelse:\n    key = f"tenant:{tenant_id}:b"', False),
    ('key = None\nif a:\n    key = f"tenant:{tenant_id}:a"\nelse:\n    key = f"user:{user_id}"', True),
    # ... unless that `if` is itself conditional
    ('key = f"user:{user_id}"\nif b:\n    if a:\n        key = f"tenant:{tenant_id}"\n    else:\n'
     '        key = f"tenant:{tenant_id}:b"', True),
    ('key = f"user:{user_id}"\nfor x in a:\n    key = f"tenant:{tenant_id}"\nelse:\n    key = f"tenant:{tenant_id}:b"', True),
    ('key = f"user:{user_id}"\nif a:\n    key = f"tenant:{tenant_id}"\nelif b:\n    key = f"tenant:{tenant_id}:b"', True),
])
def test_values_reaching_a_use(tmp_path, body, reported):
    assert key_reported(tmp_path, body) == reported


def test_use_in_the_else_of_a_loop_or_try(tmp_path):
    # The `else` of a loop or a `try` runs after its body: the value bound there reaches.
    assert codes(tmp_path, """
        import redis
        r = redis.Redis()
        def f(tenant_id, xs):
            key = f"tenant:{tenant_id}"
            for x in xs:
                key = f"user:{x}"
            else:
                r.get(key)
            try:
                key = f"user:{xs[0]}"
            except KeyError:
                pass
            else:
                r.get(key)
    """) == [(9, "TL401"), (15, "TL401")]


def test_use_in_the_else_of_the_binding_block(tmp_path):
    # In the `else`, the value bound in the `if` body has not happened.
    assert codes(tmp_path, """
        import redis
        r = redis.Redis()
        def f(tenant_id, user_id, a):
            key = f"user:{user_id}"
            if a:
                key = f"tenant:{tenant_id}"
                r.get(key)
            else:
                r.get(key)
    """) == [(10, "TL401")]


def test_paths_the_binding_block_did_not_take(tmp_path):
    # An `elif` runs when the `if` body did not; a loop's `else` also after zero turns.
    assert codes(tmp_path, """
        import redis
        r = redis.Redis()
        def f(tenant_id, user_id, a, b, xs):
            key = f"user:{user_id}"
            if a:
                key = f"tenant:{tenant_id}"
            elif b:
                r.get(key)
            for x in xs:
                key = f"tenant:{tenant_id}"
            else:
                r.get(key)
    """) == [(9, "TL401"), (13, "TL401")]
