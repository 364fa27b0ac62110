CREATE TABLE plans (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    tenant_id UUID NOT NULL,
    total NUMERIC(12, 2) NOT NULL
);
CREATE INDEX orders_tenant ON orders (tenant_id);

CREATE TABLE line_items (
    id BIGSERIAL PRIMARY KEY,
    tenant_id UUID NOT NULL,
    order_id BIGINT NOT NULL,
    sku TEXT NOT NULL
);
CREATE INDEX line_items_tenant ON line_items (tenant_id);
