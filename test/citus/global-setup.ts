// The citus project runs only against a real Citus cluster: without TENANTCTL_CITUS_URL it fails, never skips.
import pg from 'pg';

export default async function setup(): Promise<void> {
  const url = process.env.TENANTCTL_CITUS_URL;
  if (!url) throw new Error('npm run test:citus needs TENANTCTL_CITUS_URL: a Citus coordinator with two workers (see docs/citus.md)');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ v: string | null }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'citus'`);
    if (!r.rows[0]?.v) throw new Error(`${url}: the citus extension is not installed there`);
  } finally {
    await c.end();
  }
}
