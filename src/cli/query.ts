/**
 * `pinecone-resilient query`: nearest neighbours of a vector (or of a stored record, by
 * id), printed as a table, or as the response's JSON with `--json`. Values print as the
 * float32 decimals Pinecone writes (`0.4`), also over gRPC, whose wire hands them back
 * widened (`0.4000000059604645`).
 */
import type { Command } from 'commander';
import { shortestFloat32Array } from '../data/float32.js';
import type { QueryResponse } from '../data/types.js';
import {
  addRequestOptions,
  addTargetOptions,
  intOption,
  jsonOption,
  openTarget,
  type RequestFlags,
  type TargetFlags,
} from './common.js';
import { CliError, EXIT } from './exit.js';
import { columnTable } from './format.js';

/** Flags of `query`. */
export interface QueryFlags extends TargetFlags, RequestFlags {
  vector?: unknown;
  id?: string;
  topK: number;
  filter?: unknown;
  namespace?: string;
  includeMetadata?: boolean;
  includeValues?: boolean;
  json?: boolean;
}

/** Run a query; print the matches. Returns the exit code. */
export async function runQuery(flags: QueryFlags): Promise<number> {
  if ((flags.vector === undefined) === (flags.id === undefined)) {
    throw new CliError('give exactly one of --vector <json> or --id <id>');
  }
  const { pc, index } = await openTarget(flags, { maxRetries: flags.maxRetries, timeout: flags.timeout });
  try {
    const response = await index.query({
      topK: flags.topK,
      ...(flags.vector !== undefined ? { vector: flags.vector as number[] } : { id: flags.id as string }),
      namespace: flags.namespace,
      filter: flags.filter as Record<string, unknown> | undefined,
      includeMetadata: flags.includeMetadata === true,
      includeValues: flags.includeValues === true,
    });
    if (flags.id !== undefined && response.matches.length === 0) {
      // A query by an id that is not stored answers no matches (the emulator does so), which
      // reads as "nothing near"; one fetch tells the two apart.
      const { vectors } = await index.fetch({ ids: [flags.id], namespace: flags.namespace });
      if (!vectors[flags.id]) {
        throw new CliError(
          `no record with id ${JSON.stringify(flags.id)} in namespace ${JSON.stringify(response.namespace)}: ` +
            'nothing to query with (check the id and --namespace).',
        );
      }
    }
    const shown = withFloat32Values(response);
    process.stdout.write(flags.json ? `${JSON.stringify(shown, null, 2)}\n` : `${formatMatches(shown)}\n`);
    return EXIT.ok;
  } finally {
    await pc.close();
  }
}

/** The response with each match's dense and sparse values as shortest float32 decimals. */
export function withFloat32Values(response: QueryResponse): QueryResponse {
  const matches = response.matches.map((m) => {
    const out = { ...m };
    if (m.values) out.values = shortestFloat32Array(m.values);
    if (m.sparseValues)
      out.sparseValues = { ...m.sparseValues, values: shortestFloat32Array(m.sparseValues.values) };
    return out;
  });
  return { ...response, matches };
}

/** Matches as a table: rank, id, score, and metadata / values when asked for. */
export function formatMatches(response: QueryResponse): string {
  if (response.matches.length === 0) return `No matches (namespace "${response.namespace}").`;
  const withMeta = response.matches.some((m) => m.metadata !== undefined);
  const withValues = response.matches.some((m) => m.values !== undefined && m.values.length > 0);
  const header = ['#', 'id', 'score', ...(withMeta ? ['metadata'] : []), ...(withValues ? ['values'] : [])];
  const rows = response.matches.map((m, i) => [
    String(i + 1),
    m.id,
    m.score.toFixed(6),
    ...(withMeta ? [m.metadata ? clip(JSON.stringify(m.metadata), 70) : ''] : []),
    ...(withValues
      ? [m.values ? clip(`[${m.values.slice(0, 6).join(', ')}${m.values.length > 6 ? ', …' : ''}]`, 60) : '']
      : []),
  ]);
  return columnTable(header, rows, new Set([0, 2]));
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Register `query` on the program. */
export function registerQuery(program: Command, done: (code: number) => void): Command {
  const command = program
    .command('query')
    .summary('find the nearest neighbours of a vector or of a stored record')
    .description(
      'Query an index by vector (--vector) or by the id of a stored record (--id) and print the matches. ' +
        'The API key comes from the PINECONE_API_KEY environment variable.',
    );
  addRequestOptions(addTargetOptions(command))
    .option('--vector <json>', 'the query vector as a JSON array of numbers', jsonOption)
    .option('--id <id>', 'query with the vector of this stored record')
    .option('-k, --top-k <n>', 'matches to return (1..10000)', intOption(1, 10_000), 10)
    .option('--filter <json>', 'metadata filter, e.g. \'{"genre":{"$eq":"drama"}}\'', jsonOption)
    .option('-n, --namespace <namespace>', 'namespace to search (default: the default namespace)')
    .option('--include-metadata', "include each match's metadata", false)
    .option('--include-values', "include each match's values", false)
    .option('--json', 'print the response as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ export PINECONE_API_KEY=...
  $ pinecone-resilient query --host my-index-abc123.svc.pinecone.io --vector '[0.1, 0.2, 0.3]' --top-k 5
  $ pinecone-resilient query --index products --id sku-42 --filter '{"category":{"$eq":"shoes"}}' --include-metadata
  $ pinecone-resilient query --host http://127.0.0.1:5081 --id vec-7 --json          # the local emulator`,
    )
    .action(async (flags: QueryFlags) => done(await runQuery(flags)));
  return command;
}
