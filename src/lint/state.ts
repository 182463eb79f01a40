// What a lint run knows from the statements before the current one: tables and indexes the run itself
// created (so they hold no rows yet), constraints added NOT VALID in the open transaction, and columns a
// validated CHECK (col IS NOT NULL) proves.

export class RunState {
  private readonly tables = new Set<string>();
  private readonly indexes = new Set<string>();
  /** `table.constraint` added NOT VALID since the transaction began. */
  private readonly notValidInTransaction = new Set<string>();
  /** `table.constraint` -> column, for NOT VALID checks of the form `col IS NOT NULL`. */
  private readonly notNullChecks = new Map<string, string>();
  /** `table.column` that a validated check proves NOT NULL. */
  private readonly provenNotNull = new Set<string>();

  /** Created earlier in this run: empty, nobody uses it yet. */
  isNew(table: string): boolean {
    return this.tables.has(table);
  }

  created(table: string): void {
    this.tables.add(table);
  }

  renamed(from: string, to: string): void {
    if (this.tables.delete(from)) this.tables.add(to);
  }

  dropped(table: string): void {
    this.tables.delete(table);
  }

  indexCreated(name: string): void {
    this.indexes.add(name);
  }

  isNewIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  addedNotValid(table: string, constraint: string, notNullColumn: string | undefined): void {
    this.notValidInTransaction.add(`${table}.${constraint}`);
    if (notNullColumn !== undefined) this.notNullChecks.set(`${table}.${constraint}`, notNullColumn);
  }

  /** True when the constraint was added NOT VALID in the transaction still open. */
  validated(table: string, constraint: string): boolean {
    const column = this.notNullChecks.get(`${table}.${constraint}`);
    if (column !== undefined) this.provenNotNull.add(`${table}.${column}`);
    return this.notValidInTransaction.has(`${table}.${constraint}`);
  }

  provedNotNull(table: string, column: string): void {
    this.provenNotNull.add(`${table}.${column}`);
  }

  isProvenNotNull(table: string, column: string): boolean {
    return this.provenNotNull.has(`${table}.${column}`);
  }

  /** A commit: what was added NOT VALID before it can now be validated without the ADD's lock. */
  endTransaction(): void {
    this.notValidInTransaction.clear();
  }
}
