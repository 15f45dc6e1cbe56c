/**
 * `pinecone-resilient stats`: an index's record counts per namespace, dimension and
 * fullness (`describeIndexStats`), as a table or as JSON.
 */
import type { Command } from 'commander';
import type { IndexStats } from '../data/types.js';
import {
  addRequestOptions,
  addTargetOptions,
  jsonOption,
  openTarget,
  type RequestFlags,
  type TargetFlags,
} from './common.js';
import { EXIT } from './exit.js';
import { columnTable, formatNumber, keyValueTable } from './format.js';

/** Flags of `stats`. */
export interface StatsFlags extends TargetFlags, RequestFlags {
  filter?: unknown;
  json?: boolean;
}

/** Print an index's statistics. Returns the exit code. */
export async function runStats(flags: StatsFlags): Promise<number> {
  const { pc, index } = await openTarget(flags, { maxRetries: flags.maxRetries, timeout: flags.timeout });
  try {
    const stats = await index.describeIndexStats(
      flags.filter === undefined ? {} : { filter: flags.filter as Record<string, unknown> },
    );
    process.stdout.write(flags.json ? `${JSON.stringify(stats, null, 2)}\n` : `${formatStats(stats)}\n`);
    return EXIT.ok;
  } finally {
    await pc.close();
  }
}

/** Statistics as two tables: the index, then its namespaces. */
export function formatStats(stats: IndexStats): string {
  const head = keyValueTable('Index', [
    ['dimension', stats.dimension === undefined ? '-' : String(stats.dimension)],
    ...(stats.metric ? ([['metric', stats.metric]] as [string, string][]) : []),
    ['records', formatNumber(stats.totalVectorCount)],
    ['fullness', `${(stats.indexFullness * 100).toFixed(1)} %`],
  ]);
  const names = Object.keys(stats.namespaces).sort();
  if (names.length === 0) return `${head}\n(no namespaces)`;
  const rows = names.map((name) => [
    name === '' ? '(default)' : name,
    formatNumber(stats.namespaces[name]?.vectorCount ?? 0),
  ]);
  return `${head}\n\n${columnTable(['namespace', 'records'], rows, new Set([1]))}`;
}

/** Register `stats` on the program. */
export function registerStats(program: Command, done: (code: number) => void): Command {
  const command = program
    .command('stats')
    .summary("show an index's record counts per namespace")
    .description(
      'Print describe_index_stats: dimension, fullness, total records and records per namespace ' +
        '(optionally only those matching a metadata filter). The API key comes from PINECONE_API_KEY.',
    );
  addRequestOptions(addTargetOptions(command))
    .option('--filter <json>', 'count only records matching this metadata filter', jsonOption)
    .option('--json', 'print the response as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ export PINECONE_API_KEY=...
  $ pinecone-resilient stats --host my-index-abc123.svc.pinecone.io
  $ pinecone-resilient stats --index products --filter '{"category":{"$eq":"shoes"}}' --json
  $ PINECONE_CONTROLLER_HOST=http://127.0.0.1:5080 pinecone-resilient stats --index demo   # emulator from \`serve\``,
    )
    .action(async (flags: StatsFlags) => done(await runStats(flags)));
  return command;
}
