import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';
import type { DataFormat } from './archive-format.js';

/**
 * One table's rows in and out with COPY, streamed through a sha256 (so memory
 * stays flat whatever the row count): out to a data file in the export's
 * format, and in from a native (COPY text) file, optionally through a
 * transform that rewrites the ownership column.
 */

/** COPY ... TO STDOUT for one table in the given format. A partitioned table is read through a SELECT (COPY cannot read it directly). */
export function copyOutSql(schema: string, table: string, columns: readonly string[], format: DataFormat, partitioned: boolean): string {
  const list = columns.map(ident).join(', ');
  const source = qualified(schema, table);
  const select = `SELECT ${list} FROM ${source}`;
  if (format === 'jsonl') {
    // Quote and delimiter bytes JSON text never holds raw: each line is the JSON object as it is.
    return `COPY (SELECT row_to_json(t) FROM (${select}) t) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;
  }
  const what = partitioned ? `(${select})` : `${source} (${list})`;
  return format === 'csv' ? `COPY ${what} TO STDOUT WITH (FORMAT csv, HEADER true)` : `COPY ${what} TO STDOUT`;
}

export function copyInSql(schema: string, table: string, columns: readonly string[]): string {
  return `COPY ${qualified(schema, table)} (${columns.map(ident).join(', ')}) FROM STDIN`;
}

function hashing(hash: ReturnType<typeof createHash>, count: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      count.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

export async function copyTableOut(
  client: PoolClient,
  sql: string,
  file: string,
): Promise<{ rows: number; bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const count = { bytes: 0 };
  const stream = client.query(copyTo(sql));
  await pipeline(stream as Readable, hashing(hash, count), createWriteStream(file, { flags: 'wx' }));
  return { rows: stream.rowCount, bytes: count.bytes, sha256: hash.digest('hex') };
}

/** Loads a COPY text file; the sha256 of the bytes read comes back for the caller to compare. */
export async function copyTableIn(
  client: PoolClient,
  sql: string,
  file: string,
  rewrite?: Transform,
): Promise<{ rows: number; sha256: string }> {
  const hash = createHash('sha256');
  const stream = client.query(copyFrom(sql));
  const stages: (Readable | Transform | Writable)[] = [createReadStream(file), hashing(hash, { bytes: 0 })];
  if (rewrite) stages.push(rewrite);
  await pipeline([...stages, stream] as unknown as [Readable, Writable]);
  return { rows: stream.rowCount, sha256: hash.digest('hex') };
}

/** COPY text escaping of one value. */
export function copyText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/**
 * Rewrites field `index` (0-based) of every COPY text line to `value` (already
 * COPY-escaped); NULL (\N) stays NULL. In COPY text a tab or newline inside a
 * value is always escaped, so raw tabs and newlines are the separators. Each
 * chunk is written into one output buffer: the bytes between one line's field
 * and the next line's are copied as one span, so there is no allocation per row.
 */
export function rewriteField(index: number, value: string): Transform {
  const replacement = Buffer.from(value);
  let rest: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
        let out = Buffer.allocUnsafe(buf.length + 4096);
        let at = 0;
        const put = (src: Buffer, from: number, to: number) => {
          if (at + to - from > out.length) {
            const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + to - from));
            out.copy(bigger, 0, 0, at);
            out = bigger;
          }
          at += src.copy(out, at, from, to);
        };
        // Bytes from `copied` on are not yet in out.
        let copied = 0;
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
          let from = start;
          for (let k = 0; k < index; k++) {
            const tab = buf.indexOf(9, from);
            if (tab < 0 || tab >= nl) throw new Error(`a row has fewer than ${index + 1} fields`);
            from = tab + 1;
          }
          let to = buf.indexOf(9, from);
          if (to < 0 || to > nl) to = nl;
          const isNull = to - from === 2 && buf[from] === 0x5c && buf[from + 1] === 0x4e;
          if (!isNull) {
            put(buf, copied, from);
            put(replacement, 0, replacement.length);
            copied = to;
          }
          start = nl + 1;
        }
        put(buf, copied, start);
        rest = Buffer.from(buf.subarray(start));
        done(null, out.subarray(0, at));
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      if (rest.length > 0) done(new Error('the data file does not end with a newline: it is cut short'));
      else done();
    },
  });
}
