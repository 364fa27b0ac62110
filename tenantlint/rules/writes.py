"""Rules about writes and where tenant values come from (TL203, TL601): identity and
docs. The checker is `tenantlint.writes.checker`."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.rulebase import Checker, Rule
from tenantlint.writes.checker import WritesChecker

CHECKERS: tuple[type[Checker], ...] = (WritesChecker,)


class OrmWriteWithoutTenant(Rule):
    """
    ## What it does
    Flags a row created on a tenant model without its tenant: Django `create()`,
    `bulk_create()`, `get_or_create()`/`update_or_create()` (the lookup and `defaults`
    together), `Model(...)` then `save()`; SQLAlchemy `session.add(Model(...))`,
    `add_all()`, `insert(Model).values(...)`; peewee `create()`/`insert()`/
    `insert_many()`; MongoDB `insert_one()`/`insert_many()` of documents without a
    tenant field into a tenant collection. The tenant is given when a keyword names the tenant column or
    relation, when the object's tenant attribute is assigned before it is saved or
    added, or when the row is created through a tenant relation
    (`request.store.product_set.create(...)`, `org.invoices.append(obj)`). A model that
    fills in its own tenant is not flagged: its `save()`/`__init__()` (or an ancestor's)
    assigns it, its tenant field has a default, or a `pre_save` receiver / `before_insert`
    listener sets it. Keywords
    passed opaquely (`create(**validated_data)`) are left alone: the caller supplies
    them.

    ## Why is this bad?
    The row lands in no tenant, or in the default one: a later query scoped by tenant
    never finds it, and an unscoped one serves it to every tenant.

    ## Example
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)
        number = models.CharField(max_length=20)

    def add(request):
        return Invoice.objects.create(number=request.POST["number"])
    ```

    ## Use instead
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)
        number = models.CharField(max_length=20)

    def add(request):
        return Invoice.objects.create(tenant=request.tenant, number=request.POST["number"])
    ```

    ## How to fix
    Pass the authenticated tenant when creating the row, set it before `save()`/`add()`,
    or create the row through the tenant's relation.
    """

    code = "TL203"
    name = "orm-write-without-tenant"
    severity = Severity.ERROR
    summary = "a row created on a tenant model (or tenant collection) without its tenant"


class TenantFromRequest(Rule):
    """
    ## What it does
    Flags a tenant predicate, tenant lookup, tenant field of a filter document, SQL
    parameter bound to the tenant column, or update of the tenant column whose value is
    request input: Django `request.GET/POST/data/query_params/headers/COOKIES/body`,
    Flask `request.args/form/values/json/get_json()/headers/cookies`, Starlette/FastAPI
    `request.query_params/headers/cookies`, `await request.json()` and FastAPI
    `Query()/Header()/Cookie()/Body()` parameters, directly or through local variables,
    f-strings, casts (`int(...)`, `UUID(...)`) and helpers of the same module. Path
    parameters of a route are not request input here (a permission layer usually
    checks them). `tenant-sources` names the expressions that yield the authenticated
    tenant. A requested tenant that the function checks first is fine: a guard that
    leaves (`if org_id not in user.org_ids: raise ...`), a checking call
    (`authorize(user, org_id)`), or a tenant `__in` lookup on a set the request did not
    choose in the same function.

    ## Why is this bad?
    The query has a tenant filter, so every other rule passes, but the client picks
    the tenant: any user reads or moves another tenant's rows by sending its id.

    ## Example
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)

    def invoices(request):
        return Invoice.objects.filter(tenant_id=request.GET["tenant_id"])
    ```

    ## Use instead
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)

    def invoices(request):
        return Invoice.objects.filter(tenant=request.tenant)
    ```

    ## How to fix
    Take the tenant from the authenticated session (`request.tenant`, `g.org_id`, a
    `tenant-sources` entry), or check that the requested tenant is one the user
    belongs to before using it.
    """

    code = "TL601"
    name = "tenant-from-request"
    severity = Severity.ERROR
    summary = ("a tenant predicate, lookup, filter value, SQL parameter or tenant-column update whose value "
               "is request input")
