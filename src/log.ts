/**
 * Structured logging: the spec's namespaces and messages, to the character. The SDK is
 * silent unless given a logger or `PINECONE_LOG_LEVEL` is set.
 */

/** Fields on every record: `logger` is the spec's namespace, `event` a stable name. */
export interface LogFields {
  logger: string;
  event: string;
  [key: string]: unknown;
}

/** Any object with these methods fits: `console`, pino, winston adapters... */
export interface Logger {
  debug(message: string, fields: LogFields): void;
  info(message: string, fields: LogFields): void;
  warn(message: string, fields: LogFields): void;
}

/** Namespace of HTTP/gRPC retry records. */
export const HTTP_CLIENT_LOGGER = 'pinecone._internal.http_client';
/** Namespace of the adaptive limiter's records. */
export const ADAPTIVE_LOGGER = 'pinecone._internal.adaptive';
/** Where the INFO record sends readers. */
export const RETRIES_DOCS_URL = 'https://www.npmjs.com/package/pinecone-resilient#retries';

/** INFO, once per host per client: the first time a host rate-limits this client. */
export function rateLimitedMessage(host: string): string {
  return `Rate limited by host=${host}. Adaptive concurrency will reduce in-flight requests. See ${RETRIES_DOCS_URL} for details.`;
}

/** DEBUG, once per retry: `status` is the HTTP status, gRPC code name or network error code. */
export function throttledMessage(
  status: number | string,
  host: string,
  attempt: number,
  totalAttempts: number,
  delaySeconds: number,
): string {
  return `Throttled response: status=${status} host=${host} attempt=${attempt}/${totalAttempts} delay=${delaySeconds.toFixed(3)}s`;
}

/** DEBUG: the adaptive limit went down. */
export function aimdDecreasedMessage(before: number, after: number, ceiling: number): string {
  return `AIMD limiter decreased: before=${before} after=${after} ceiling=${ceiling}`;
}

/** DEBUG: the adaptive limit went up by one slot. */
export function aimdIncreasedMessage(now: number, ceiling: number): string {
  return `AIMD limiter increased: now=${now} ceiling=${ceiling}`;
}

const noop = () => {};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop };

type Level = 'debug' | 'info' | 'warn';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30 };

/** A logger writing one line per record to stderr, at `level` and above. */
export function stderrLogger(level: Level): Logger {
  const write = (lvl: Level) => (message: string, fields: LogFields) => {
    if (RANK[lvl] < RANK[level]) return;
    process.stderr.write(`${new Date().toISOString()} ${lvl.toUpperCase()} ${fields.logger} ${message}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn') };
}

/**
 * The logger a client uses: the one given, else one from `PINECONE_LOG_LEVEL`
 * (`debug` | `info` | `warn`), else silent.
 */
export function resolveLogger(option: Logger | undefined, env: NodeJS.ProcessEnv = process.env): Logger {
  if (option) return option;
  const level = env.PINECONE_LOG_LEVEL?.trim().toLowerCase();
  if (level === 'debug' || level === 'info' || level === 'warn') return stderrLogger(level);
  return silentLogger;
}
