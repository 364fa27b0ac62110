"""Filter documents, pipelines and search queries, table-driven: are they tenant-scoped?"""
from __future__ import annotations

import ast

import pytest

from tenantlint.documents.filters import FilterJudge, Verdict
from tenantlint.stores.tenancy import Tenancy

S, O, W, U = Verdict.SCOPED, Verdict.OPAQUE, Verdict.WEAKENED, Verdict.UNSCOPED


def _judge(bindings=None) -> FilterJudge:
    bound = {k: ast.parse(v, mode="eval").body for k, v in (bindings or {}).items()}
    tenancy = Tenancy(("tenant_id",), ("global:",), bound.get, lambda node: "")
    return FilterJudge(tenancy, lambda node: bound.get(node.id) if isinstance(node, ast.Name) else None)


def _expr(source):
    return ast.parse(source, mode="eval").body if source is not None else None


@pytest.mark.parametrize("source, bindings, verdict", [
    (None, None, U),  # find(): every document
    ("{}", None, U),
    ('{"tenant_id": t}', None, S),
    ('{"_id": i, "tenant_id": t}', None, S),
    ('{"tenant_id": {"$eq": t}}', None, S),
    ('{"tenant_id": {"$in": ts}}', None, S),
    ('{"tenant_id": {"$ne": t}}', None, W),
    ('{"tenant_id": {"$exists": True}}', None, W),
    ('{"$and": [{"tenant_id": t}, {"x": 1}]}', None, S),
    ('{"$and": [{"x": 1}]}', None, U),
    ('{"$or": [{"tenant_id": t}, {"public": True}]}', None, W),
    ('{"$or": [{"tenant_id": t, "a": 1}, {"tenant_id": t, "b": 2}]}', None, S),
    ('{"$nor": [{"tenant_id": t}]}', None, W),
    ('dict(tenant_id=t, x=1)', None, S),
    ('{**base, "tenant_id": t}', None, S),
    ('{**base, "x": 1}', None, O),
    ('{**base, "x": 1}', {"base": '{"tenant_id": t}'}, S),
    ("q", None, O),  # a parameter
    ("q", {"q": '{"tenant_id": t}'}, S),
    ("q", {"q": '{"x": 1}'}, U),
    ("dict(query)", None, O),
    ("build_filter(x)", None, O),
    ("tenant_filter(x)", None, S),  # the call names the tenant
    ('{"metadata.tenant_id": t}', None, S),
])
def test_mongo_filters(source, bindings, verdict):
    assert _judge(bindings).mongo(_expr(source)) == verdict


@pytest.mark.parametrize("source, bindings, verdict, vector", [
    (None, None, U, False),
    ('[{"$match": {"tenant_id": t}}, {"$group": {}}]', None, S, False),
    ('[{"$group": {"_id": "$tenant_id"}}]', None, U, False),
    ('[{"$match": {"x": 1}}]', None, U, False),
    ('[{"$vectorSearch": {"index": "i", "filter": {"tenant_id": t}}}]', None, S, True),
    ('[{"$vectorSearch": {"index": "i"}}, {"$match": {"tenant_id": t}}]', None, U, True),
    ('[{"$geoNear": {"near": p, "query": {"tenant_id": t}}}]', None, S, False),
    ("pipeline", {"pipeline": '[{"$match": {"tenant_id": t}}]'}, S, False),
    ("pipeline", None, O, False),
    ('[first, *rest]', None, O, False),
    ('[{"$match": {"tenant_id": t}}] + stages', None, S, False),
])
def test_pipelines(source, bindings, verdict, vector):
    assert _judge(bindings).pipeline(_expr(source)) == (verdict, vector)


@pytest.mark.parametrize("source, verdict", [
    (None, U),
    ('{"match_all": {}}', U),
    ('{"term": {"tenant_id": t}}', S),
    ('{"terms": {"tenant_id.keyword": [t]}}', S),
    ('{"bool": {"filter": [{"term": {"tenant_id": t}}], "must": [{"match": {"body": q}}]}}', S),
    ('{"bool": {"filter": {"term": {"tenant_id": t}}}}', S),
    ('{"bool": {"must": [{"term": {"tenant_id": t}}]}}', S),
    ('{"bool": {"must_not": [{"term": {"tenant_id": t}}]}}', U),
    ('{"bool": {"should": [{"term": {"tenant_id": t}}, {"match": {"x": 1}}]}}', W),
    ('{"bool": {"filter": [{"bool": {"must": [{"term": {"tenant_id": t}}]}}]}}', S),
    ('{"constant_score": {"filter": {"term": {"tenant_id": t}}}}', S),
    ('{"match": {"body": q}}', U),
    ("query", O),
])
def test_elastic_queries(source, verdict):
    assert _judge().elastic(_expr(source)) == verdict


@pytest.mark.parametrize("source, mentions", [
    ('{"tenant_id": t}', True),
    ('[{"$group": {"_id": "$tenant_id"}}]', True),
    ('{"bool": {"filter": [{"term": {"tenant_id.keyword": t}}]}}', True),
    ('dict(tenant_id=t)', True),
    ('{"name": "tenant_report"}', False),  # a value, not a field
    ('{"x": 1}', False),
])
def test_mentions_of_the_tenant_field(source, mentions):
    assert _judge().mentions(_expr(source)) == mentions
