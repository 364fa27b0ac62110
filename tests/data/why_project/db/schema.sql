CREATE TABLE plans (id bigint PRIMARY KEY, name text);
CREATE TABLE invoices (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, period text, amount numeric);
CREATE INDEX invoices_tenant ON invoices (tenant_id);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY invoices_tenant ON invoices USING (tenant_id = current_setting('app.tenant_id')::bigint)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::bigint);
CREATE TABLE usage_events (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, kind text);
