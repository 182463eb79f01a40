/** One object of a schema's structure, as the drift check compares it. */
export interface Entry {
  kind: string;
  name: string;
  def: string;
}

/** A schema that exists, its relations (see SchemaRef), and the digest of its structure (null: it holds nothing the check compares). */
export interface Digest {
  oid: string;
  schema: string;
  relations: number;
  digest: string | null;
}
