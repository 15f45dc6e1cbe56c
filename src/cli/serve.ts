/**
 * `pinecone-resilient serve`: run the local emulator until SIGINT / SIGTERM, with every
 * fault settable by a flag. Prints the hosts (or one JSON line with `--json`, for scripts).
 * Imports only the emulator, never the SDK's client.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Metric } from '../data/types.js';
import { isLoopbackAddress } from '../local/access.js';
import type { LocalIndexDefinition } from '../local/emulator.js';
import type { FaultConfig, InjectedStatus } from '../local/faults.js';
import { validateFaultConfig } from '../local/faults.js';
import { isDataOperation } from '../local/operation-names.js';
import { type LocalServer, type LocalServerOptions, startLocalServer } from '../local/server.js';
import { CliError, EXIT } from './exit.js';

/** The flags of `serve`, as commander parses them. */
export interface ServeFlags {
  port: number;
  host: string;
  index: LocalIndexDefinition[];
  apiKey?: string;
  adminKey?: string;
  allowedHost?: string[];
  maxBodyBytes?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxConnections?: number;
  seed?: number;
  rps?: number;
  burst?: number;
  retryAfter?: number;
  maxInFlight?: number;
  error429?: number;
  errorRetryAfter?: number;
  errorRetryAfterShare?: number;
  error500?: number;
  error502?: number;
  error503?: number;
  error504?: number;
  latencyMs?: number;
  jitterMs?: number;
  resetRate?: number;
  truncateRate?: number;
  malformedRate?: number;
  hangRate?: number;
  resetAfterWriteRate?: number;
  slowBodyRate?: number;
  slowBodyMs?: number;
  faultOps?: string[];
  json?: boolean;
}

function number(kind: 'integer' | 'number' | 'rate', min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const ok =
      Number.isFinite(n) &&
      n >= min &&
      (kind !== 'integer' || Number.isInteger(n)) &&
      (kind !== 'rate' || n <= 1);
    if (!ok) {
      const want =
        kind === 'rate'
          ? 'a probability from 0 to 1'
          : `a${kind === 'integer' ? 'n integer' : ' number'} >= ${min}`;
      throw new InvalidArgumentError(`expected ${want}; got ${JSON.stringify(value)}.`);
    }
    return n;
  };
}

/**
 * Parse `--index name:dimension[:metric]` or `--index name:sparse` (a sparse dotproduct
 * index). Repeatable: commander accumulates into `previous`.
 */
export function parseIndexSpec(value: string, previous: LocalIndexDefinition[] = []): LocalIndexDefinition[] {
  const [name, second, third, ...rest] = value.split(':');
  const usage = `expected name:dimension[:metric] or name:sparse; got ${JSON.stringify(value)}.`;
  if (!name || !second || rest.length > 0) throw new InvalidArgumentError(usage);
  if (second === 'sparse') {
    if (third !== undefined && third !== 'dotproduct') throw new InvalidArgumentError(usage);
    return [...previous, { name, vectorType: 'sparse', metric: 'dotproduct' }];
  }
  const dimension = Number(second);
  if (!Number.isInteger(dimension) || dimension < 1) throw new InvalidArgumentError(usage);
  const metric = (third ?? 'cosine') as Metric;
  if (!['cosine', 'euclidean', 'dotproduct'].includes(metric)) throw new InvalidArgumentError(usage);
  return [...previous, { name, dimension, metric }];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseOperations(value: string): string[] {
  const ops = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ops.filter((op) => !isDataOperation(op));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown operation(s): ${bad.join(', ')}.`);
  return ops;
}

/** The fault configuration the flags describe (validated). */
export function faultsFromFlags(flags: ServeFlags): FaultConfig {
  const faults: Record<string, unknown> = {};
  if (flags.rps !== undefined) {
    faults.rateLimit = { rps: flags.rps, burst: flags.burst, retryAfterSeconds: flags.retryAfter };
  }
  if (flags.maxInFlight !== undefined) faults.maxInFlight = flags.maxInFlight;
  const rates: Partial<Record<InjectedStatus, number>> = {};
  for (const status of [429, 500, 502, 503, 504] as const) {
    const rate = flags[`error${status}`];
    if (rate !== undefined) rates[status] = rate;
  }
  if (Object.keys(rates).length > 0) faults.errorRates = rates;
  if (flags.latencyMs !== undefined || flags.jitterMs !== undefined) {
    faults.latency = { fixedMs: flags.latencyMs, jitterMs: flags.jitterMs };
  }
  if (flags.resetRate !== undefined) faults.resetRate = flags.resetRate;
  if (flags.truncateRate !== undefined) faults.truncateRate = flags.truncateRate;
  if (flags.malformedRate !== undefined) faults.malformedRate = flags.malformedRate;
  if (flags.errorRetryAfter !== undefined) {
    faults.errorRetryAfter = { seconds: flags.errorRetryAfter, share: flags.errorRetryAfterShare };
  }
  if (flags.hangRate !== undefined) faults.hangRate = flags.hangRate;
  if (flags.resetAfterWriteRate !== undefined) faults.resetAfterWriteRate = flags.resetAfterWriteRate;
  if (flags.slowBodyRate !== undefined) faults.slowBodyRate = flags.slowBodyRate;
  if (flags.slowBodyMs !== undefined) faults.slowBodyMs = flags.slowBodyMs;
  if (flags.faultOps !== undefined) faults.operations = flags.faultOps;
  // Drop the undefined members commander leaves, then validate as the admin endpoint does.
  return validateFaultConfig(JSON.parse(JSON.stringify(faults)));
}

/** The lines `serve` prints once listening. */
export function describeServer(server: LocalServer): string {
  const lines = [
    'Pinecone emulator (pinecone-resilient) listening',
    `  controller  ${server.controllerHost}`,
  ];
  for (const name of server.indexNames()) {
    lines.push(`  index ${name}  ${server.indexHost(name)}  (gRPC ${server.grpcHost(name)})`);
  }
  lines.push(
    `  admin       ${server.controllerHost}/admin/indexes/{name}/faults | /stats`,
    `  seed        ${server.seed}`,
    'Press Ctrl+C to stop.',
  );
  return lines.join('\n');
}

/** The emulator's options the flags describe (faults validated). */
export function serverOptionsFromFlags(flags: ServeFlags): LocalServerOptions {
  let faults: FaultConfig;
  try {
    faults = faultsFromFlags(flags);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  const options: LocalServerOptions = {
    port: flags.port,
    host: flags.host,
    indexes: flags.index,
    faults,
    apiKey: flags.apiKey,
    adminKey: flags.adminKey,
    allowedHosts: flags.allowedHost,
    seed: flags.seed,
    maxBodyBytes: flags.maxBodyBytes,
    headersTimeoutMs: flags.headersTimeoutMs,
    requestTimeoutMs: flags.requestTimeoutMs,
    idleTimeoutMs: flags.idleTimeoutMs,
    maxConnections: flags.maxConnections,
  };
  // Drop what commander left undefined, so the emulator's defaults apply.
  for (const key of Object.keys(options) as (keyof LocalServerOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }
  return options;
}

/**
 * A warning for a bind that other machines can reach with nothing to keep them out (no
 * API key): they could read and change every index and its faults.
 */
export function exposureWarning(flags: ServeFlags): string | undefined {
  if (isLoopbackAddress(flags.host) || flags.apiKey !== undefined) return undefined;
  return `Warning: listening on ${flags.host} without --api-key: anyone who can reach this address can read, write and delete every index and change its faults. Set --api-key (and --admin-key) or bind to 127.0.0.1.`;
}

/**
 * Start the emulator as the flags say (the part of `serve` that tests drive directly). Bad
 * fault flags, a bad limit and a taken port are usage errors (exit code 2) with a message.
 */
export async function startFromFlags(flags: ServeFlags): Promise<LocalServer> {
  const options = serverOptionsFromFlags(flags);
  try {
    return await startLocalServer(options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.code === 'EADDRINUSE') {
      const port = e.port ?? flags.port;
      const which = port === flags.port ? '' : ' (an index port: indexes take the ports after --port)';
      throw new CliError(
        `${e.address ?? flags.host}:${port} is already in use (EADDRINUSE)${which}: another program, perhaps ` +
          'another `serve`, listens there. Use --port 0 for any free ports, or pick another --port.',
        EXIT.usage,
      );
    }
    // A bad limit (e.g. headers timeout above the request timeout) is a usage error.
    if (/must (be|not)/.test(e.message)) throw new CliError(e.message, EXIT.usage);
    throw err;
  }
}

/** Register `serve` on a commander program. */
export function serveCommand(program: Command): Command {
  return program
    .command('serve')
    .description('Run the local Pinecone emulator (in memory, with fault injection) until Ctrl+C')
    .option(
      '-p, --port <port>',
      'controller port; indexes take the next ports (0 = any free ports)',
      number('integer'),
      5080,
    )
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option(
      '-i, --index <spec>',
      'create an index at start: name:dimension[:metric] or name:sparse (repeatable)',
      parseIndexSpec,
      [],
    )
    .option('--api-key <key>', 'require this API key, on /admin too (default: accept any)')
    .option('--admin-key <key>', 'require this key (Api-Key header) on /admin instead of --api-key')
    .option(
      '--allowed-host <name>',
      'also accept this name in Host and Origin headers, e.g. an /etc/hosts alias (repeatable)',
      collect,
    )
    .option(
      '--max-body-bytes <n>',
      'largest request body read (default 16 MiB; gRPC 4 MiB)',
      number('integer', 1),
    )
    .option(
      '--headers-timeout-ms <ms>',
      'a request must send its headers within this time (default 20000)',
      number('integer', 1),
    )
    .option(
      '--request-timeout-ms <ms>',
      'a request (a gRPC message) must arrive in full within this time (default 60000)',
      number('integer', 1),
    )
    .option(
      '--idle-timeout-ms <ms>',
      'idle keep-alive connections and HTTP/2 sessions close after this time (default 65000)',
      number('integer', 1),
    )
    .option('--max-connections <n>', 'connections open at once per port (default 1000)', number('integer', 1))
    .option('--seed <n>', 'seed of the fault sequences (default: random, printed)', number('integer'))
    .option('--rps <n>', 'rate limit: requests per second per index (token bucket)', number('number', 0.001))
    .option('--burst <n>', 'rate limit: bucket size (default: max(1, rps/10))', number('number', 1))
    .option('--retry-after <seconds>', 'send Retry-After on rate-limited 429s', number('number'))
    .option(
      '--max-in-flight <n>',
      'cap on concurrent requests per index (more get 429)',
      number('integer', 1),
    )
    .option(
      '--error-429 <rate>',
      'probability of a random 429, whatever the load (a noisy shared project)',
      number('rate'),
    )
    .option('--error-500 <rate>', 'probability of an injected 500', number('rate'))
    .option(
      '--error-502 <rate>',
      'probability of an injected 502 (plain-text body, as proxies send)',
      number('rate'),
    )
    .option('--error-503 <rate>', 'probability of an injected 503', number('rate'))
    .option('--error-504 <rate>', 'probability of an injected 504 (plain-text body)', number('rate'))
    .option('--error-retry-after <seconds>', 'send Retry-After on injected 429/5xx answers', number('number'))
    .option(
      '--error-retry-after-share <rate>',
      'share of injected 429/5xx answers that carry it (default 1)',
      number('rate'),
    )
    .option('--latency-ms <ms>', 'fixed latency added to each request', number('number'))
    .option('--jitter-ms <ms>', 'random latency in [0, ms) added to each request', number('number'))
    .option('--reset-rate <rate>', 'probability of a connection reset without a response', number('rate'))
    .option('--truncate-rate <rate>', 'probability of a 2xx with a truncated body', number('rate'))
    .option('--malformed-rate <rate>', 'probability of a 2xx with a non-JSON body', number('rate'))
    .option('--hang-rate <rate>', 'probability a request is never answered', number('rate'))
    .option(
      '--reset-after-write-rate <rate>',
      'probability the write is stored, then the connection reset',
      number('rate'),
    )
    .option('--slow-body-rate <rate>', 'probability a 2xx body is sent slowly', number('rate'))
    .option('--slow-body-ms <ms>', 'how long a slow body takes (default 2000)', number('number'))
    .option(
      '--fault-ops <list>',
      'apply faults only to these operations (comma-separated, e.g. upsert,query)',
      parseOperations,
    )
    .option('--json', 'print the hosts as one JSON line instead of text')
    .action(async (flags: ServeFlags) => {
      const warning = exposureWarning(flags);
      if (warning) process.stderr.write(`${warning}\n`);
      const server = await startFromFlags(flags);
      if (flags.json) {
        const indexes = Object.fromEntries(server.indexNames().map((n) => [n, server.indexHost(n)]));
        const grpcHosts = Object.fromEntries(server.indexNames().map((n) => [n, server.grpcHost(n)]));
        process.stdout.write(
          `${JSON.stringify({ controllerHost: server.controllerHost, indexes, grpcHosts, seed: server.seed })}\n`,
        );
      } else {
        process.stdout.write(`${describeServer(server)}\n`);
      }
      await waitForSignal();
      process.stderr.write('Shutting down the emulator...\n');
      // A stuck close must not hang the terminal: force the exit after a grace period.
      setTimeout(() => process.exit(1), 5000).unref();
      await server.close();
    });
}

/** Resolve on the first SIGINT or SIGTERM; a second one exits at once. */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
