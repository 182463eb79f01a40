import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from '../../db/types.js';
import { ident, qualified } from '../../util/quote.js';
import type { RowTable } from './tables.js';

/**
 * One table's rows from the source's session to the target's: COPY ... TO
 * STDOUT streamed into COPY ... FROM STDIN, with backpressure, so memory stays
 * flat whatever the row count. Binary where every column's type is built in
 * (see RowTable.binary), else COPY text as pg_dump writes it; either is read
 * back by any server version.
 */
const BATCH = 256 * 1024;

export async function streamTable(
  source: PoolClient,
  target: PoolClient,
  schema: string,
  table: RowTable,
): Promise<{ rows: number; bytes: number }> {
  const columns = table.columns.map(ident).join(', ');
  const name = qualified(schema, table.name);
  const count = { bytes: 0 };
  // COPY TO hands over one chunk per row; COPY FROM sends one message per chunk written. Batching
  // them into ~256 KiB chunks turns a million small messages into a few hundred large ones.
  let held: Buffer[] = [];
  let heldBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      count.bytes += chunk.length;
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < BATCH) return done();
      const out = Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      done(null, out);
    },
    flush(done) {
      done(null, heldBytes > 0 ? Buffer.concat(held, heldBytes) : undefined);
    },
  });
  const format = table.binary ? ' WITH (FORMAT binary)' : '';
  const into = target.query(copyFrom(`COPY ${name} (${columns}) FROM STDIN${format}`));
  const out = source.query(copyTo(`COPY ${name} (${columns}) TO STDOUT${format}`));
  await pipeline(out as Readable, counter, into as Writable);
  return { rows: into.rowCount, bytes: count.bytes };
}
