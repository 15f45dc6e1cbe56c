/**
 * The few Redis commands coordination needs, as an interface any client can satisfy:
 * run a Lua script by SHA (`EVALSHA`) or by source (`EVAL`, which also caches it), and
 * read the server's clock (`TIME`). Also the adapter that builds it from a client that
 * sends raw commands, as `@redis/client`'s `sendCommand` does.
 */

/** A Redis connection reduced to what coordination uses. */
export interface ScriptClient {
  /** `EVALSHA sha numkeys key... arg...`; rejects with an error naming `NOSCRIPT` when the server lacks the script. */
  evalScriptBySha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** `EVAL source numkeys key... arg...`. */
  evalScript(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** The server's clock (`TIME`), in milliseconds since the epoch. */
  serverTime(): Promise<number>;
}

/**
 * A client that sends raw commands, e.g. a connected `@redis/client` client
 * (`createClient()`), whose `sendCommand(['TIME'])` resolves to the reply.
 */
export interface CommandSender {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Whether `value` looks like a {@link ScriptClient}. */
export function isScriptClient(value: unknown): value is ScriptClient {
  const v = value as Partial<ScriptClient> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.evalScriptBySha === 'function' &&
    typeof v.evalScript === 'function' &&
    typeof v.serverTime === 'function'
  );
}

/** Whether `value` looks like a {@link CommandSender}. */
export function isCommandSender(value: unknown): value is CommandSender {
  const v = value as Partial<CommandSender> | null;
  return typeof v === 'object' && v !== null && typeof v.sendCommand === 'function';
}

/** Milliseconds since the epoch from a `TIME` reply (`[seconds, microseconds]`). */
export function parseTimeReply(reply: unknown): number {
  if (Array.isArray(reply) && reply.length === 2) {
    const ms = Number(String(reply[0])) * 1000 + Number(String(reply[1])) / 1000;
    if (Number.isFinite(ms)) return ms;
  }
  throw new TypeError('unexpected reply to TIME');
}

/** A {@link ScriptClient} over a function that sends one raw command. */
export function scriptClientOver(send: (args: string[]) => Promise<unknown>): ScriptClient {
  return {
    evalScriptBySha: (sha, keys, args) => send(['EVALSHA', sha, String(keys.length), ...keys, ...args]),
    evalScript: (source, keys, args) => send(['EVAL', source, String(keys.length), ...keys, ...args]),
    serverTime: async () => parseTimeReply(await send(['TIME'])),
  };
}
