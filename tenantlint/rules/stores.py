"""Store rules (TL401-TL404): cache keys, vector stores and object keys need a tenant
component. Which calls they watch comes from the API catalog packs in `rules/*.toml`."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.rules.base import Checker, Rule

CHECKERS: tuple[type[Checker], ...] = ()


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

    ## How to fix
    Prefix every object key with the tenant.
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
