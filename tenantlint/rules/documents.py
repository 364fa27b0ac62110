"""Document, search and graph rules (TL405, TL406) and shared-store wipes (TL408). The
checker is `tenantlint/documents/checker.py`; which calls it watches comes from the packs."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.documents.checker import DocumentChecker
from tenantlint.rulebase import Checker, Rule

CHECKERS: tuple[type[Checker], ...] = (DocumentChecker,)


class DocumentQueryUnscoped(Rule):
    """
    ## What it does
    Flags MongoDB (pymongo, motor) and Elasticsearch / OpenSearch reads, updates and
    deletes on a tenant collection or index without a tenant filter: a filter document
    (`find`, `update_*`, `delete_*`, `count_documents`, `distinct`, `find_one_and_*`, an
    aggregation's first `$match`) that does not equate the tenant field at its top level
    (or under `$and`), or an Elasticsearch query without a `term`/`terms` on it in
    `bool.filter`/`must`. A collection or index is a tenant one when listed in
    `tenant-tables` or when the project writes or filters it with a tenant field anywhere;
    an index whose name interpolates the tenant (`f"notes-{tenant_id}"`) is scoped by
    construction. `$or` or `should` weakens the tenant field, as OR does in SQL.

    ## Why is this bad?
    One collection or index holds every tenant's documents: `find_one({"_id": note_id})`
    returns another tenant's note to anyone who knows (or guesses) its id, and a
    `delete_many` without the tenant deletes every tenant's data.

    ## Example
    ```python
    from pymongo import MongoClient

    notes = MongoClient().app.notes

    def create(tenant_id, title):
        notes.insert_one({"tenant_id": tenant_id, "title": title})

    def get(note_id):
        return notes.find_one({"_id": note_id})
    ```

    ## Use instead
    ```python
    from pymongo import MongoClient

    notes = MongoClient().app.notes

    def create(tenant_id, title):
        notes.insert_one({"tenant_id": tenant_id, "title": title})

    def get(tenant_id, note_id):
        return notes.find_one({"_id": note_id, "tenant_id": tenant_id})
    ```

    ## How to fix
    Add the tenant field to every filter document (`{"tenant_id": tenant_id, ...}`), to the
    first `$match` of every aggregation, and a `{"term": {"tenant_id": ...}}` to the
    `bool.filter` of every search; or keep one index per tenant.
    """

    code = "TL405"
    name = "document-query-unscoped"
    severity = Severity.ERROR
    summary = "MongoDB/Elasticsearch read, update or delete on a tenant collection without a tenant filter"


class GraphQueryUnscoped(Rule):
    """
    ## What it does
    Flags Cypher queries (neo4j `session.run`, `tx.run`, `driver.execute_query`,
    transaction functions, LangChain `Neo4jGraph.query`, FalkorDB and Memgraph clients)
    with a node pattern they read, merge or delete that is not tied to the tenant
    property: neither by its property map (`{user_id: $user_id}`), nor by a top-level
    `WHERE` conjunct (`n.user_id = $user_id`), nor through a relationship from a node that
    is. Nodes yielded by a vector or full-text index procedure count as reads. A label is
    a tenant one when the project writes or filters it with the tenant property (or lists
    it in `tenant-tables`); a node without a label may be any of them.

    ## Why is this bad?
    A per-user memory graph or a per-tenant knowledge graph shares one database: `MATCH
    (n) DETACH DELETE n` forgets every user's memories, and a `MERGE` without the tenant
    property links one tenant's entity to another's.

    ## Example
    ```python
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver("neo4j://localhost:7687")

    def remember(tenant_id, name):
        driver.execute_query("MERGE (e:Entity {name: $name, tenant_id: $tenant_id})", name=name, tenant_id=tenant_id)

    def forget(name):
        driver.execute_query("MATCH (e:Entity {name: $name}) DETACH DELETE e", name=name)
    ```

    ## Use instead
    ```python
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver("neo4j://localhost:7687")

    def remember(tenant_id, name):
        driver.execute_query("MERGE (e:Entity {name: $name, tenant_id: $tenant_id})", name=name, tenant_id=tenant_id)

    def forget(tenant_id, name):
        driver.execute_query("MATCH (e:Entity {name: $name, tenant_id: $tenant_id}) DETACH DELETE e",
                             name=name, tenant_id=tenant_id)
    ```

    ## How to fix
    Put the tenant property in the property map of every node pattern (or a `WHERE n.tenant_id
    = $tenant_id` conjunct), or reach the other nodes through relationships from one that
    has it.
    """

    code = "TL406"
    name = "graph-query-unscoped"
    severity = Severity.ERROR
    summary = "Cypher query whose node patterns are not tied to the tenant property"


class SharedStoreWipe(Rule):
    """
    ## What it does
    Flags operations that wipe a whole shared store, every tenant's entries at once:
    redis `flushdb`/`flushall`, Django `cache.clear()`, memcached `flush_all`, Chroma
    `reset()` and `delete_collection`, Qdrant `delete_collection`/`recreate_collection`,
    MongoDB `drop()`/`drop_collection`/`drop_database`, Elasticsearch `indices.delete`,
    FalkorDB `graph.delete()`, Memgraph `drop_database()`. A collection or index whose
    name interpolates the tenant is that tenant's alone; one listed in `global-tables` is
    not tenant data. (An unfiltered delete on a tenant collection is TL405.)

    ## Why is this bad?
    "Clear my cache" or "reset my memories" written as a flush of the shared store wipes
    every customer's data, and in a cache, serves every tenant a cold start at once.

    ## Example
    ```python
    import redis

    r = redis.Redis()

    def reset_cache():
        r.flushdb()
    ```

    ## Use instead
    ```python
    import redis

    r = redis.Redis()

    def reset_cache(tenant_id):
        for key in r.scan_iter(f"tenant:{tenant_id}:*"):
            r.delete(key)
    ```

    ## How to fix
    Delete the tenant's own keys (by its key prefix), documents (by a tenant filter) or
    collection (named after the tenant); keep whole-store wipes in admin tooling with a
    suppression that says why.
    """

    code = "TL408"
    name = "shared-store-wipe"
    severity = Severity.WARNING
    summary = ("an operation that wipes a whole shared store (flushdb/flushall, cache.clear(), Chroma reset(), "
               "dropping a shared collection or index)")
    precision = "medium"
