import redis
from django_scopes import scopes_disabled

from app.db import tenant_scope
from app.models import Project

cache = redis.Redis()


def invoice(cur, tenant_id, invoice_id):
    cur.execute("SELECT * FROM invoices WHERE tenant_id = %s AND id = %s", (tenant_id, invoice_id))


def by_period(cur, period):
    cur.execute("SELECT * FROM invoices WHERE period = %s", (period,))


def plan_names(cur):
    cur.execute("SELECT name FROM plans")


def legacy_export(cur):
    cur.execute("SELECT * FROM usage_events")  # tenantlint: ignore[TL101] nightly export, reviewed in SEC-7


def scoped_by_provider(tenant_id):
    with tenant_scope(tenant_id) as cur:
        cur.execute("SELECT * FROM usage_events")


def projects(request):
    return Project.objects.filter(tenant=request.tenant)


def all_projects():
    return Project.objects.all()


def every_project_ever():
    with scopes_disabled():
        return list(Project._base_manager.all())


def cached_name(tenant_id):
    return cache.get(f"tenant:{tenant_id}:name")


def shared_name():
    return cache.get("name")
