/**
 * What the coordination suites share: a redis-server per suite (skipped with the reason
 * where none is installed, outside CI), raw connections to inspect and drive it, and unique
 * host names so tests on one server do not see each other's state.
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe } from 'vitest';
import { NodeRedisConnection } from '../../src/coordination/node-redis.js';
import { type RedisOptions, type RedisProcess, redisMissing, startRedis } from '../helpers/redis-server.js';

const missing = redisMissing();
if (missing) console.warn(`Skipping the Redis coordination tests: ${missing}`);

/**
 * `describe` over a fresh redis-server (started before, stopped after the suite), or a
 * skipped suite naming the reason when redis-server is not installed (never in CI).
 */
export function describeWithRedis(
  name: string,
  body: (server: () => RedisProcess) => void,
  options: RedisOptions = {},
): void {
  describe.skipIf(missing !== undefined)(missing ? `${name} (skipped: ${missing})` : name, () => {
    let server: RedisProcess | undefined;
    beforeAll(async () => {
      server = await startRedis(options);
    });
    afterAll(async () => {
      await server?.stop();
    });
    body(() => {
      if (!server) throw new Error('redis-server not started');
      return server;
    });
  });
}

/** A plain `@redis/client` connection for inspecting the server (HGETALL, PTTL, SCAN...). */
export async function inspector(url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

type Inspector = Awaited<ReturnType<typeof inspector>>;

/** Connections the server has open (`CLIENT LIST`), the inspector's own among them. */
export async function clientCount(raw: Inspector): Promise<number> {
  return String(await raw.sendCommand(['CLIENT', 'LIST']))
    .trim()
    .split('\n').length;
}

/**
 * The ids of the connections the server has open (`CLIENT LIST`): a test that counted them
 * read another test's connection still closing as one of its own, or as one gone.
 */
export async function clientIds(raw: Inspector): Promise<Set<number>> {
  return new Set(
    [...String(await raw.sendCommand(['CLIENT', 'LIST'])).matchAll(/\bid=(\d+)/g)].map((m) => Number(m[1])),
  );
}

/** Connections subscribed to `channel` (`PUBSUB NUMSUB`). */
export async function subscribers(raw: Inspector, channel: string): Promise<number> {
  return Number(((await raw.sendCommand(['PUBSUB', 'NUMSUB', channel])) as unknown[])[1]);
}

/** A connection through the SDK's own adapter (1 s connect bound). */
export function connection(url: string): NodeRedisConnection {
  return new NodeRedisConnection({ url, connectTimeoutMs: 1000 });
}

let hosts = 0;
/** A host name no other test uses. */
export function uniqueHost(tag: string): string {
  hosts += 1;
  return `${tag}-${hosts}-${process.pid}.svc.test`;
}

/** Poll `condition` every 10 ms until it holds or `ms` pass; resolves to whether it held. */
export async function eventually(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
