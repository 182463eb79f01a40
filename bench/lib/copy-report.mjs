// The copy benchmark's Markdown: one table of legs, then tenantctl's ratio to psql per operation.
import { median } from './report.mjs';

const f = (x, digits = 2) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));

export function copyReport({ header, legs, runs, rows }) {
  const med = new Map(legs.map((l) => [l.id, runs.get(l.id).every((r) => r.ok) ? median(runs.get(l.id).map((r) => r.wall)) : null]));
  const floorOf = (leg) => med.get(`psql-${leg.verb}`);
  const lines = [
    ...header,
    '',
    '| leg | wall s (median) | runs s | rows/s | vs psql | check |',
    '| --- | ---: | --- | ---: | ---: | --- |',
  ];
  for (const leg of legs) {
    const wall = med.get(leg.id);
    const ratio = wall != null && floorOf(leg) ? wall / floorOf(leg) : null;
    const problems = runs.get(leg.id).flatMap((r) => r.problems);
    lines.push(
      `| ${leg.label} | ${f(wall)} | ${runs
        .get(leg.id)
        .map((r) => f(r.wall))
        .join(
          ', ',
        )} | ${wall ? Math.round(rows / wall).toLocaleString('en-US') : 'n/a'} | ${leg.floor ? '1.00' : f(ratio)} | ${problems.length ? `**FAILED**: ${problems.join('; ').replaceAll('|', '\\|').slice(0, 300)}` : 'ok'} |`,
    );
  }
  lines.push(
    '',
    '### tenantctl compared',
    '',
    '| operation | tenantctl wall / psql wall | tenantctl rows/s | psql rows/s |',
    '| --- | ---: | ---: | ---: |',
  );
  const rate = (wall) => (wall ? Math.round(rows / wall).toLocaleString('en-US') : 'n/a');
  for (const verb of ['copy', 'move']) {
    const t = med.get(`tenantctl-${verb}`);
    const p = med.get(`psql-${verb}`);
    lines.push(`| ${verb} | ${t != null && p ? `${f(t / p)}x` : 'n/a'} | ${rate(t)} | ${rate(p)} |`);
  }
  return lines.join('\n');
}
