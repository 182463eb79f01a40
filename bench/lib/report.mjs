// Turning measurements into the Markdown report: one table per scenario, then tenantctl's ratios
// to the floor and to node-pg-migrate side by side.

const ALTERNATIVES = ['npm-cli', 'runner-seq', 'runner-4'];

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const f = (x, digits = 2, unit = '') => (x == null || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(digits)}${unit}`);

/**
 * One row per tool from its runs: median wall (extrapolated to N when only a sample ran),
 * max peak RSS, round trips, and whether every run passed its check.
 */
export function summarize(sc, runsByTool) {
  const rows = new Map();
  for (const [tool, runs] of runsByTool) {
    const walls = runs.map((r) => r.wall * (sc.n / (r.tenantsRun ?? sc.n)));
    const rss = runs.map((r) => r.rssKb).filter((x) => x != null);
    const problems = runs.flatMap((r, i) => r.problems.map((p) => (runs.length > 1 ? `round ${i + 1}: ${p}` : p)));
    rows.set(tool, {
      tool,
      label: runs[0].label,
      wall: runs.every((r) => r.wall != null) ? median(walls) : null,
      walls,
      rssMb: rss.length ? Math.max(...rss) / 1024 : null,
      roundTrips: runs.at(-1).roundTrips ?? null,
      tenantsRun: runs[0].tenantsRun ?? sc.n,
      ok: problems.length === 0,
      problems,
    });
  }
  const floor = rows.get('floor');
  const alts = ALTERNATIVES.map((t) => rows.get(t)).filter((r) => r?.ok && r.wall != null);
  const bestAlt = alts.length ? alts.reduce((a, b) => (b.wall < a.wall ? b : a)) : null;
  for (const row of rows.values()) {
    row.vsFloor = floor?.ok && floor.wall && row.wall != null ? row.wall / floor.wall : null;
    row.vsBestAlt = bestAlt && row.wall != null ? row.wall / bestAlt.wall : null;
  }
  return { rows, bestAlt };
}

export function scenarioTable(sc, summary, repeat) {
  const head = ['tool', 'wall s', 'tenants/s', 'peak RSS MB', 'vs floor', 'vs best alt', 'round trips', 'check'];
  if (repeat > 1) head.splice(2, 0, 'runs s');
  const lines = [
    `### Scenario ${sc.key}: ${sc.title}`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((h, i) => (i === 0 || h === 'check' ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const r of summary.rows.values()) {
    const sampled = r.tenantsRun < sc.n;
    const cells = [
      r.label + (summary.bestAlt?.tool === r.tool ? ' (best alt)' : ''),
      `${sampled ? '~' : ''}${f(r.wall)}`,
      f(r.wall ? sc.n / r.wall : null, 1),
      f(r.rssMb, 1),
      f(r.vsFloor),
      f(r.vsBestAlt),
      r.roundTrips ?? '',
      r.ok ? 'ok' : `**FAILED**: ${r.problems.join('; ').replaceAll('|', '\\|').replaceAll('\n', ' ').slice(0, 400)}`,
    ];
    if (repeat > 1) cells.splice(2, 0, r.walls.map((w) => f(w)).join(', '));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const sampledRows = [...summary.rows.values()].filter((r) => r.tenantsRun < sc.n);
  for (const r of sampledRows) {
    lines.push(
      '',
      `~ ${r.tool} ran ${r.tenantsRun} of ${sc.n} tenants (--cli-loop-max); its wall time is extrapolated linearly to ${sc.n}.`,
    );
  }
  return lines.join('\n');
}

/**
 * tenantctl against the floor and against node-pg-migrate's runner() 4 at a time, per scenario, as
 * ratios of median wall times measured in this run, with the conditions that make them comparable.
 * Figures only: what they are good enough for is the reader's call.
 */
export function comparison(summaries, opts) {
  const lines = ['### tenantctl compared', '', '| scenario | figure | measured | conditions |', '| --- | --- | ---: | --- |'];
  const row = (key, tool) => summaries.get(key)?.rows.get(tool);
  const good = (r) => r?.ok && r.wall != null;
  const add = (sc, figure, measured, conditions, tc) =>
    lines.push(`| ${sc} | ${figure} | ${tc && !tc.ok ? 'n/a (tenantctl failed its check)' : measured} | ${conditions} |`);
  const c = opts.concurrency;
  const vsFloor = `tenantctl concurrency ${c}; the floor is one psql session, so below 1 means parallelism beat a sequential floor`;

  const t1 = row('1', 'tenantctl');
  if (t1) add('1 fresh', 'tenantctl wall / floor wall', f(t1.vsFloor, 2, 'x'), vsFloor, t1);

  const t2 = row('2', 'tenantctl');
  const r2 = row('2', 'runner-4');
  if (t2) {
    add('2 one pending', 'tenantctl wall / floor wall', f(t2.vsFloor, 2, 'x'), vsFloor, t2);
    add(
      '2 one pending',
      'runner() 4 at a time wall / tenantctl wall',
      f(good(t2) && good(r2) ? r2.wall / t2.wall : null, 1, 'x'),
      `${c === 4 ? 'both 4' : `tenantctl ${c}, runner() 4`} tenants at a time, one transaction per tenant`,
      t2,
    );
  }

  const t3 = row('3', 'tenantctl');
  const t3s = row('3-small', 'tenantctl');
  const r3 = row('3', 'runner-4');
  if (t3) {
    const sc3 = summaries.get('3').sc;
    const sc3s = summaries.get('3-small')?.sc;
    add(
      '3 nothing pending',
      'tenantctl round trips at N and at N/10',
      `${t3.roundTrips ?? 'n/a'} at N=${sc3.n}, ${t3s?.roundTrips ?? 'n/a'} at N=${sc3s?.n ?? 'n/a'}`,
      'statements sent by tenantctl, from its `stats.roundTrips`',
      t3,
    );
    add(
      '3 nothing pending',
      'runner() 4 at a time wall / tenantctl wall',
      f(good(t3) && good(r3) ? r3.wall / t3.wall : null, 1, 'x'),
      'runner() connects and reads its bookkeeping per tenant; tenantctl plans from one query',
      t3,
    );
    add('3 nothing pending', 'tenantctl peak RSS', f(t3.rssMb, 1, ' MB'), 'client process only, not the server backends', t3);
  }
  return lines.length > 4 ? lines.join('\n') : '';
}
