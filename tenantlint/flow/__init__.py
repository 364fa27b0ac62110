"""The flow engine: which values reach a use, on which paths (see `walk.py`).

One mechanism for every family: a family subclasses `Walk` with its own value type
(an ORM query State, SQL text, a store handle) and answers the protocol documented there;
the engine follows `if`/loops/`try`/`match`/`with`, drops the paths that end, joins the
paths that meet and gives up a name to an opaque value past `MAX_VALUES`."""
from tenantlint.flow.walk import DEFS, ENDS, LOOPS, MAX_VALUES, TRIES, WITHS, Env, Walk, extension

__all__ = ["DEFS", "ENDS", "LOOPS", "MAX_VALUES", "TRIES", "WITHS", "Env", "Walk", "extension"]
