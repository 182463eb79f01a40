/** One object of a schema's structure, as the drift check compares it. */
export interface Entry {
  kind: string;
  name: string;
  def: string;
}

export interface Digest {
  schema: string;
  /** null: the schema holds nothing the check compares. */
  digest: string | null;
  n: number;
}
