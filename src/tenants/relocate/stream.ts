import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from '../../db/types.js';
import { ident, qualified } from '../../util/quote.js';
import type { RowTable } from './tables.js';

/**
 * One table's rows from the source's session to the target's: COPY ... TO
 * STDOUT streamed into COPY ... FROM STDIN, with backpressure, so memory stays
 * flat whatever the row count. COPY text, as pg_dump writes it, read back by
 * any server version.
 */
export async function streamTable(
  source: PoolClient,
  target: PoolClient,
  schema: string,
  table: RowTable,
): Promise<{ rows: number; bytes: number }> {
  const columns = table.columns.map(ident).join(', ');
  const name = qualified(schema, table.name);
  const count = { bytes: 0 };
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      count.bytes += chunk.length;
      done(null, chunk);
    },
  });
  const into = target.query(copyFrom(`COPY ${name} (${columns}) FROM STDIN`));
  const out = source.query(copyTo(`COPY ${name} (${columns}) TO STDOUT`));
  await pipeline(out as Readable, counter, into as Writable);
  return { rows: into.rowCount, bytes: count.bytes };
}
