#!/usr/bin/env bash
# The main job end to end: a fleet of tenants of the example application, on the
# embedded Postgres (data in ./.tenantctl/), unless DATABASE_URL says otherwise.
# Rerunnable: it removes the demo tenants it made last time first.
set -euo pipefail
cd "$(dirname "$0")/.."
t() { echo "+ tenantctl $*" >&2; node bin/tenantctl.js "$@"; }

for id in acme globex initech; do
  node bin/tenantctl.js tenant remove "$id" --purge --yes --quiet >/dev/null 2>&1 || true
done

t init
t tenant create acme globex initech --name "Demo tenant"
t exec --tenant acme -c "INSERT INTO customers (name, email, plan_code) VALUES ('Ada', 'ada@acme.test', 'team') RETURNING id, tenant_id, name"
t exec --tenant globex -c "INSERT INTO customers (name) VALUES ('Grace'); SELECT current_user, current_schema(), count(*) AS customers FROM customers"
t tenant list
t migrate status
t migrate
t tenant update initech --set region=eu --status suspended
t tenant show initech
t tenant remove initech --yes
t tenant list --status archived
t tenant restore initech
t migrate status --check
echo "demo finished: three tenants at the head, one archived and restored" >&2
