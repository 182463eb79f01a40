-- Up Migration
CREATE VIEW customer_invoice_totals AS
  SELECT c.id AS customer_id, c.tenant_id, c.name,
         count(i.id) AS invoices, coalesce(sum(i.amount_cents), 0) AS total_cents
  FROM customers c LEFT JOIN invoices i ON i.customer_id = c.id
  GROUP BY c.id, c.tenant_id, c.name;

-- Down Migration
DROP VIEW customer_invoice_totals;
