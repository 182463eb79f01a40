/** The setting that makes a new schema a Citus distributed schema, for the creating transaction only. */
export function distributedSchemaSettingSql(): string {
  return `SELECT set_config('citus.enable_schema_based_sharding', 'on', true)`;
}
