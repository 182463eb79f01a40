// Running commands: timed (wall clock and peak RSS of the process tree) and untimed (setup).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

const TIME = '/usr/bin/time';
export const haveGnuTime = existsSync(TIME);

export const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function waitForExit(child) {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** GNU time -o FILE -f %M writes the peak RSS in KB as the last line (after a note on failure). */
function readPeakRssKb(file) {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const kb = Number(lines.at(-1));
  return Number.isFinite(kb) ? kb : null;
}

/**
 * Runs cmd args with stdout and stderr written to files (every tool the same way) and returns
 * { code, wall (s), rssKb, stdoutFile, stderrFile }. Peak RSS is GNU time's %M: the largest
 * resident set of the command or any descendant it waited for (a max, not a sum).
 */
export async function timed(cmd, args, { env, cwd, logBase }) {
  const stdoutFile = `${logBase}.stdout`;
  const stderrFile = `${logBase}.stderr`;
  const rssFile = `${logBase}.rss`;
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const [file, argv] = haveGnuTime ? [TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  try {
    const start = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', out, err] });
    const code = await waitForExit(child);
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    return { code, wall, rssKb: haveGnuTime ? readPeakRssKb(rssFile) : null, stdoutFile, stderrFile };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** Runs an untimed setup command; throws with its output when it fails. Returns stdout. */
export async function run(cmd, args, { env, cwd } = {}) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = { out: [], err: [] };
  child.stdout.on('data', (d) => chunks.out.push(d));
  child.stderr.on('data', (d) => chunks.err.push(d));
  const code = await waitForExit(child);
  const stdout = Buffer.concat(chunks.out).toString();
  const stderr = Buffer.concat(chunks.err).toString();
  if (code !== 0) {
    const error = new Error(`${cmd} ${args.join(' ').slice(0, 300)} exited with ${code}\n${stderr.slice(-2000)}${stdout.slice(-2000)}`);
    Object.assign(error, { code, stdout, stderr });
    throw error;
  }
  return stdout;
}

/** psql -f each file, all files at once (one session each), as setup. */
export function psqlFiles(url, files) {
  return Promise.all(files.map((f) => run('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', f])));
}

/** The last `max` characters of a log file, for error messages. */
export function tail(file, max = 1500) {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  return text.length > max ? `...${text.slice(-max)}` : text;
}
