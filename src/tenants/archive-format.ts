import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/**
 * The export folder: manifest.json (the tenant's registry entry and config,
 * its journal, the structure of its tables at that version, sequence values,
 * and per table the row count and the sha256 of its data file) and one data
 * file per table under data/. `native` files are COPY text (what import
 * loads); `csv` has a header row; `jsonl` is one JSON object per row.
 */
export const EXPORT_FORMAT = 'tenantctl-export';
export const EXPORT_FORMAT_VERSION = 1;
export const DATA_FORMATS = ['native', 'csv', 'jsonl'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];
export const MANIFEST = 'manifest.json';

export interface ManifestColumn {
  name: string;
  type: string;
  generated: boolean;
  identity: '' | 'a' | 'd';
}

export interface ManifestTable {
  name: string;
  columns: ManifestColumn[];
  /** The columns the data file holds, in its order. */
  dataColumns: string[];
  /** The data file, relative to the folder. */
  file: string;
  rows: number;
  bytes: number;
  /** sha256 of the data file's bytes, hex. */
  sha256: string;
}

export interface ManifestSequence {
  name: string;
  lastValue: string;
  isCalled: boolean;
}

export interface Manifest {
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  dataFormat: DataFormat;
  exportedAt: string;
  server: { version: string };
  tenant: {
    id: string;
    key: string;
    name: string | null;
    status: string;
    config: Record<string, unknown>;
    schema: string;
    createdAt: string;
  };
  ownershipColumn: string;
  /** The journal: the tenant's version is its last entry. */
  migrations: { name: string; checksum: string }[];
  tables: ManifestTable[];
  sequences: ManifestSequence[];
  rows: number;
}

export function dataFileName(table: string, index: number, format: DataFormat): string {
  // The index keeps names unique whatever the table is called; the name is for people.
  const safe = table.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
  return join('data', `${String(index + 1).padStart(4, '0')}-${safe}.${format === 'native' ? 'copy' : format}`);
}

/** Reads and checks an export's manifest: exit 2 naming what is wrong. */
export function readManifest(path: string): Manifest {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InputError('export_not_found', `${path} does not exist; give the folder \`tenantctl tenant export\` wrote`, { path });
  }
  if (!isDir)
    throw new InputError('export_invalid', `${path} is not a folder; give the folder \`tenantctl tenant export\` wrote`, { path });
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(join(path, MANIFEST), 'utf8')) as Manifest;
  } catch (err) {
    throw new InputError(
      'export_invalid',
      `cannot read ${join(path, MANIFEST)}: ${(err as Error).message}; is ${path} a tenantctl export?`,
      { path },
    );
  }
  if (m?.format !== EXPORT_FORMAT)
    throw new InputError('export_invalid', `${join(path, MANIFEST)} is not a tenantctl export manifest`, { path });
  if (m.formatVersion !== EXPORT_FORMAT_VERSION) {
    throw new InputError(
      'export_unsupported',
      `${path} is export format version ${m.formatVersion}; this tenantctl reads version ${EXPORT_FORMAT_VERSION}`,
      { path },
    );
  }
  if (!Array.isArray(m.tables) || !Array.isArray(m.migrations) || !Array.isArray(m.sequences) || typeof m.tenant?.id !== 'string') {
    throw new InputError('export_invalid', `${join(path, MANIFEST)} is incomplete (tables, migrations, sequences or tenant missing)`, {
      path,
    });
  }
  for (const t of m.tables) {
    // Data files live in data/ of the export: a manifest cannot point import at another file of the machine.
    if (typeof t.file !== 'string' || !/^data\/[A-Za-z0-9_.-]+$/.test(t.file.replace(/\\/g, '/')) || t.file.includes('..')) {
      throw new InputError(
        'export_invalid',
        `${join(path, MANIFEST)} names data file ${JSON.stringify(t.file)} for table ${t.name}; data files are in data/`,
        { path },
      );
    }
  }
  return m;
}
