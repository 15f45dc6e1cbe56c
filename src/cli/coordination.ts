/**
 * The CLI's `--redis <url>`: a coordinator that shares the adaptive limits with every loader
 * given the same Redis (docs/coordination.md), its outage warnings on stderr. Shared by
 * `upsert` (N copies of the CLI, one budget) and `demo --loaders` (several loaders at once).
 */
import { type RedisCoordinator, redisCoordinator } from '../coordination/redis-coordinator.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { CliError } from './exit.js';

/** Coordination's few records (an outage, its end) on stderr; its debug records dropped. */
const coordinationLog: Logger = {
  debug: () => {},
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
};

/**
 * The coordinator `--redis` asks for (`undefined` without it); a bad URL is a usage error.
 * `keyPrefix`: the fleet's keys (default: the SDK's own prefix, shared by every loader).
 */
export function coordinatorFor(
  url: string | undefined,
  options: { timeout?: number | undefined; keyPrefix?: string | undefined } = {},
): RedisCoordinator | undefined {
  if (url === undefined) return undefined;
  try {
    return redisCoordinator({ url, logger: coordinationLog, ...options });
  } catch (error) {
    if (error instanceof ValidationError) throw new CliError(`--redis: ${error.message}`);
    throw error;
  }
}
