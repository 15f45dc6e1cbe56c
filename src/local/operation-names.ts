/** The data-plane operations, named as the emulator's stats and fault filters name them. */
export const DATA_OPERATIONS = [
  'upsert',
  'query',
  'fetch',
  'delete',
  'update',
  'describe_index_stats',
  'list',
  'fetch_by_metadata',
  'list_namespaces',
  'describe_namespace',
  'create_namespace',
  'delete_namespace',
  'start_import',
  'list_imports',
  'describe_import',
  'cancel_import',
  'upsert_records',
  'search_records',
] as const;

/** A data-plane operation. */
export type DataOperation = (typeof DATA_OPERATIONS)[number];

/** Is the string a data-plane operation name? */
export function isDataOperation(value: string): value is DataOperation {
  return (DATA_OPERATIONS as readonly string[]).includes(value);
}
