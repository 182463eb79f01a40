// The verify benchmark's Markdown report.
import { cpus, loadavg, totalmem } from 'node:os';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function summarizeLeg(runs) {
  const walls = runs.map((r) => r.wall);
  const last = runs.at(-1);
  const inChecks = runs.map((r) => r.checkSeconds).filter((x) => x !== undefined);
  return {
    wall: median(walls),
    walls,
    checks: inChecks.length ? median(inChecks) : null,
    roundTrips: last.roundTrips,
    result: last.result,
    problems: runs.flatMap((r) => r.problems),
  };
}

function row(state, label, s, [planned, heap]) {
  const ratio = (x, base) => (base && !base.problems.length ? (x / base.wall).toFixed(3) : 'n/a');
  const check = s.problems.length ? `**FAILED**: ${s.problems.join('; ')}` : 'ok';
  const inChecks = s.checks === null ? '' : `${s.checks.toFixed(3)} (${ratio(s.checks, planned)}, ${ratio(s.checks, heap)})`;
  return `| ${state} | ${label} | ${s.wall.toFixed(3)} | ${s.walls.map((w) => w.toFixed(2)).join(', ')} | ${ratio(s.wall, planned)} | ${ratio(s.wall, heap)} | ${inChecks} | ${s.roundTrips ?? ''} | ${s.result} | ${check} |`;
}

/** The whole report: setup, the table of timed runs, per-check times, the targets' figures (lines), the probe's plan. */
export function report({ opts, server, fleet, states, perCheck, plan, targets, started }) {
  const lines = [
    `# Verify benchmark${opts.quick ? ' (quick)' : ''}, ${started.toISOString()}`,
    '',
    `- machine: ${cpus().length} cores (${cpus()[0]?.model?.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at the end`,
    `- server: PostgreSQL ${server.version}, shared_buffers ${server.shared_buffers}; client Node ${process.version}`,
    `- fleet: ${fleet.n} tenants of the example application (\`migrations/\`, 9 migrations, a role each) with ${fleet.rowsPerTenant} rows each, and tenant \`big\` with ${fleet.bigRows.toLocaleString('en-US')} rows (${Object.entries(
      fleet.bigCounts,
    )
      .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
      .join(', ')}); every table has an index on tenant_id (the example app's migration 8); VACUUM ANALYZE after loading`,
    `- dirty: ${fleet.planted.length} planted violations: ${fleet.planted.map((p) => `${p.check} ${p.tenant} ${p.object}`).join('; ')}`,
    `- every timed command is a new process (psql, or \`node bin/tenantctl.js\`), wall clock from spawn to exit; ${opts.repeat} rounds, tools interleaved, median reported; CHECKPOINT and ${opts.settle} s rest before each`,
    "- vs scan: wall / the wall of the scan of the same tables as PostgreSQL plans it (for a tenant's table it reads the whole tenant_id index, which btree deduplication keeps small: every entry holds the same value); vs heap scan: the same scan with index scans off, reading every row. in the checks: the sum of `checks[].seconds` from verify's JSON, the time spent in the checks themselves (without starting Node, connecting and reading the registry)",
    '',
    '| fleet | command | wall s (median) | runs s | vs scan | vs heap scan | in the checks s (vs scan, vs heap scan) | round trips | result | check |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const st of states) {
    for (const [id, s] of st.legs)
      lines.push(
        row(
          st.name,
          st.labels.get(id),
          s,
          st.baselines.get(id).map((b) => st.legs.get(b)),
        ),
      );
  }
  lines.push(
    '',
    '### Per check (the last full `verify --json` of each fleet state)',
    '',
    '| fleet | check | seconds | round trips | violations |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [state, checks] of perCheck) {
    for (const c of checks) lines.push(`| ${state} | ${c.name} | ${c.seconds.toFixed(3)} | ${c.roundTrips} | ${c.violations} |`);
  }
  lines.push('', ...targets);
  if (plan)
    lines.push(
      '',
      "### Server time on the big tenant's largest table (EXPLAIN ANALYZE): the probe against the scan",
      '',
      '```',
      plan,
      '```',
    );
  return `${lines.join('\n')}\n`;
}
