"""Store rules (TL401-TL404): cache keys, vector stores and object keys need a tenant
component. Which calls they watch comes from the API catalog packs in `rules/*.toml`."""
from __future__ import annotations

import ast

from tenantlint.diagnostics import Severity
from tenantlint.packs import ArgRef
from tenantlint.rulebase import Checker, Rule
from tenantlint.stores.owned import from_row
from tenantlint.stores.walker import ApiChecker
from tenantlint.trace import SCOPED, UNSCOPED

_KEY_CODE = {"cache": "TL401", "object": "TL403"}
_WHAT = {"cache": "cache key", "object": "object key"}


class StoreChecker(ApiChecker):
    """Cache and object keys (TL401/TL403), vector queries and writes (TL402/TL404)."""

    codes = ("TL401", "TL402", "TL403", "TL404")
    roles = ("cache", "object", "vector-query", "vector-write")

    def check(self, call, role, matched) -> None:
        if any(handle is not None and handle.scoped for _spec, handle, _m in matched):
            self._decide(call, SCOPED, "the client is a tenant handle (a tenant namespace, `with_tenant(...)` or a "
                                       "tenant-scoped store)")
            return
        if role in _KEY_CODE:
            if self.forwards_callers_key(call, matched):
                return
            if role == "cache" and self.in_memo_decorator(call):
                self._decide(call, SCOPED, "a memoizing decorator's key: the decorated function's arguments, judged "
                                           "where it is used (TL407)")
                return
            if role == "object" and self._row_bucket(call, matched):
                self._decide(call, SCOPED, "the bucket belongs to the tenant: it is read from a row of a tenant "
                                           "model (`self` in its method), so is every object in it")
                return
            problems = [self._key_problem(call, spec) for spec, _h, _m in matched]
            if problems and all(problems):
                self._decide(call, UNSCOPED, problems[0])
                self.report(_KEY_CODE[role], call, problems[0])
            elif self.ctx.trace is not None:
                spec = matched[0][0]
                key = self.arg(call, spec.key) if spec.key is not None else None
                what = f"`{_short(self.ctx.code_for(key))}`" if key is not None else "(none given)"
                self._decide(call, SCOPED, f"{_WHAT[role]} {what} has a tenant component (a tenant name, a tenant "
                                           "key helper or a global-key-prefixes entry)")
            return
        if any(self._vector_scoped(call, spec, role) for spec, _h, _m in matched):
            self._decide(call, SCOPED, "a tenant namespace, filter or tenant metadata")
            return
        self._decide(call, UNSCOPED, "no tenant namespace, filter, metadata or tenant handle")
        receiver = self._receiver(call)
        if role == "vector-query":
            self.report("TL402", call, f"`{receiver}()` reaches every tenant's vectors: no tenant "
                                       f"namespace, filter or tenant handle")
        else:
            self.report("TL404", call, f"`{receiver}()` writes vectors without tenant metadata or namespace")

    def _receiver(self, call: ast.Call) -> str:
        receiver = self.ctx.code_for(call.func)
        return "..." + receiver[-57:] if len(receiver) > 60 else receiver

    def _decide(self, call: ast.Call, verdict: str, reason: str) -> None:
        if self.ctx.trace is not None:
            self.ctx.decide(call, "stores", self._receiver(call), verdict, reason)

    def _row_bucket(self, call: ast.Call, matched) -> bool:
        """The bucket the call reaches is a tenant row's (stores/owned.py): the bucket it
        names, else the client or bucket handle it is called on, read from `self` in the
        row's method or from a parameter every caller fills from a row."""
        rows, values = self.row_names()
        if not rows and not values:
            return False
        for spec, _handle, _method in matched:
            bucket = self.arg(call, spec.bucket) if spec.bucket is not None else None
            if isinstance(bucket, ast.expr):
                owned = from_row(bucket, self.origin, False, rows, values)
            else:
                owned = isinstance(call.func, ast.Attribute) and from_row(call.func.value, self.origin, True,
                                                                          rows, values, self._naming)
            if not owned:
                return False
        return bool(matched)

    def _naming(self, call: ast.Call) -> list | None:
        """The arguments of a call on the way to a store that may name its bucket: for an
        object call of the API catalog, its `bucket` argument only (a key names none);
        None for any other call (each argument may)."""
        matched = [(spec, handle) for spec, handle, _m in self.matches(call) if spec.role == "object"]
        if not matched:
            return None
        found = []
        for spec, handle in matched:
            if spec.bucket is None:
                continue
            # on a receiver of unknown kind, entries of several kinds match (`get_blob_client`
            # of a service takes the container first, of a container the blob): only a
            # bucket given by its keyword is surely one
            ref = spec.bucket if handle is not None else ArgRef(keyword=spec.bucket.keyword)
            found.append(self.arg(call, ref))
        return [b for b in found if isinstance(b, ast.expr)]

    # -- keys -----------------------------------------------------------------------
    def _key_problem(self, call: ast.Call, spec) -> str | None:
        """Why this call's key has no tenant component (None: it has one, or none is given)."""
        what = _WHAT[spec.role]
        if any(self.tenancy.key_scoped(p) for p in self.args(call, spec.prefix)):
            return None
        if spec.key is not None:
            key = self.arg(call, spec.key)
            if key is not None and not self.tenancy.key_scoped(key):
                return f"{what} `{_short(self.ctx.code_for(key))}` has no tenant component"
        if spec.keys is not None:
            keys = self.arg(call, spec.keys)
            if keys is not None and not all(self.tenancy.key_scoped(k) for k in _elements(keys)):
                return f"{what}s `{_short(self.ctx.code_for(keys))}` have no tenant component"
        if spec.mapping is not None:
            mapping = self.arg(call, spec.mapping)
            if mapping is not None and not all(self.tenancy.key_scoped(k) for k in _mapping_keys(mapping)):
                return f"{what}s in `{_short(self.ctx.code_for(mapping))}` have no tenant component"
        if spec.varargs:
            for value in _unnamed(call):
                if not self.tenancy.key_scoped(value):
                    return f"{what} `{_short(self.ctx.code_for(value))}` has no tenant component"
        if spec.pattern is not None:
            pattern = self.arg(call, spec.pattern)
            if pattern is None and spec.pattern_default is not None:
                return f"no {what} pattern or prefix: the call reaches every tenant's keys"
            if pattern is not None and not self.tenancy.key_scoped(pattern):
                return f"{what} pattern `{_short(self.ctx.code_for(pattern))}` crosses tenants"
        return None

    # -- vectors --------------------------------------------------------------------
    def _vector_scoped(self, call: ast.Call, spec, role: str) -> bool:
        if any(self.tenancy.key_scoped(n) for n in self.args(call, spec.namespace)):
            return True
        fields = spec.filter if role == "vector-query" else spec.tags
        if any(self.tenancy.field_scoped(f) for f in self.args(call, fields)):
            return True
        return any(kw.arg is None and self.tenancy.field_scoped(kw.value) for kw in call.keywords)


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 60 else code[:57] + "..."


def _unnamed(call: ast.Call) -> list[ast.expr]:
    """The values of a call's arguments without a keyword, in order: positional ones,
    `*args` (as `args`) and `**kwargs` (as `kwargs`)."""
    values = [a.value if isinstance(a, ast.Starred) else a for a in call.args]
    values.extend(kw.value for kw in call.keywords if kw.arg is None)
    return values


def _elements(node: ast.expr):
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [el.value if isinstance(el, ast.Starred) else el for el in node.elts]
    return [node]


def _mapping_keys(node: ast.expr):
    if isinstance(node, ast.Dict):
        return [key if key is not None else value for key, value in zip(node.keys, node.values)]
    if isinstance(node, ast.DictComp):
        return [node.key]
    return [node]


CHECKERS: tuple[type[Checker], ...] = (StoreChecker,)


class CacheKeyUnscoped(Rule):
    """
    ## What it does
    Flags redis, Django cache and memcached calls whose key has no tenant component: no
    interpolated or concatenated name that is a tenant column or contains `tenant`, no
    key-builder call whose name says tenant, and no `global-key-prefixes` prefix.

    ## Why is this bad?
    `cache.get(f"report:{report_id}")` serves tenant A's cached report to tenant B when
    ids collide or are guessed, and a pattern delete (`*:user:*`) wipes every tenant.

    ## Example
    ```python
    import redis

    r = redis.Redis()

    def dashboard(user_id):
        return r.get(f"dashboard:{user_id}")
    ```

    ## Use instead
    ```python
    import redis

    r = redis.Redis()

    def dashboard(tenant_id, user_id):
        return r.get(f"tenant:{tenant_id}:dashboard:{user_id}")
    ```

    ## How to fix
    Prefix every key with the tenant: `tenant:{tenant_id}:resource:{id}`; name shared
    keys with a `global:` prefix.
    """

    code = "TL401"
    name = "cache-key-unscoped"
    severity = Severity.ERROR
    summary = "cache key without a tenant component"


class VectorQueryUnscoped(Rule):
    """
    ## What it does
    Flags similarity searches, queries, retrievers, fetches and deletes on vector stores
    (Pinecone, Chroma, Qdrant, Weaviate, Milvus, LangChain, LlamaIndex) without a tenant
    namespace, tenant handle (`with_tenant`) or a filter on a tenant field.

    ## Why is this bad?
    Retrieval-augmented answers quote the nearest documents, whoever owns them: one
    unfiltered search puts another customer's data into this customer's answer.

    ## Example
    ```python
    from pinecone import Pinecone

    index = Pinecone(api_key="...").Index("docs")

    def similar(embedding):
        return index.query(vector=embedding, top_k=5)
    ```

    ## Use instead
    ```python
    from pinecone import Pinecone

    index = Pinecone(api_key="...").Index("docs")

    def similar(tenant_id, embedding):
        return index.query(vector=embedding, top_k=5, namespace=tenant_id)
    ```

    ## How to fix
    Use a namespace or tenant per customer, or filter on the tenant field in every query.
    """

    code = "TL402"
    name = "vector-query-unscoped"
    severity = Severity.ERROR
    summary = "vector search/fetch/delete without tenant namespace or filter"


class ObjectKeyUnscoped(Rule):
    """
    ## What it does
    Flags S3, GCS and Azure Blob calls whose object key has no tenant component.

    ## Why is this bad?
    Object keys without the tenant collide across tenants and make per-tenant access
    policies (prefix-scoped IAM, signed URLs) impossible.

    ## Example
    ```python
    import boto3

    s3 = boto3.client("s3")

    def save(export_id, body):
        s3.put_object(Bucket="exports", Key=f"exports/{export_id}.csv", Body=body)
    ```

    ## Use instead
    ```python
    import boto3

    s3 = boto3.client("s3")

    def save(tenant_id, export_id, body):
        s3.put_object(Bucket="exports", Key=f"{tenant_id}/exports/{export_id}.csv", Body=body)
    ```

    A tenant's own bucket is exempt: in a method of a tenant model (or of a mixin only
    tenant models inherit), a call whose bucket is read from `self` (`Bucket=self.bucket`),
    or that names no bucket and is made on a client or bucket the row's methods built
    (`self.get_client()`), reaches only that tenant's objects; so does a utility's call
    whose bucket or client parameter every caller in the project fills from such a row.
    A bucket named by a constant, a setting or a URL is not the row's, whoever built the
    client.

    ## How to fix
    Prefix every object key with the tenant, or keep each tenant's objects in the bucket
    its own row names.
    """

    code = "TL403"
    name = "object-key-unscoped"
    severity = Severity.ERROR
    summary = "object-storage key without a tenant component"


class VectorWriteUntagged(Rule):
    """
    ## What it does
    Flags vectors written without tenant metadata or a tenant namespace.

    ## Why is this bad?
    A vector stored without its tenant can never be filtered out of another tenant's
    search later.

    ## Example
    ```python
    import chromadb

    docs = chromadb.Client().get_or_create_collection("docs")

    def add(ids, embeddings):
        docs.add(ids=ids, embeddings=embeddings)
    ```

    ## Use instead
    ```python
    import chromadb

    docs = chromadb.Client().get_or_create_collection("docs")

    def add(tenant_id, ids, embeddings):
        docs.add(ids=ids, embeddings=embeddings, metadatas=[{"tenant_id": tenant_id} for _ in ids])
    ```

    ## How to fix
    Tag every vector with `tenant_id` metadata, or write into the tenant's namespace.
    """

    code = "TL404"
    name = "vector-write-untagged"
    severity = Severity.WARNING
    summary = "vectors written without tenant metadata or namespace"
    precision = "medium"
