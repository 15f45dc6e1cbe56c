/**
 * What the CLI's commands share: the exit code an error implies, option parsers, and
 * opening the index the flags name (exit codes and `CliError` live in exit.ts).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Pinecone, type PineconeOptions } from '../client.js';
import type { IndexDataPlane } from '../data/data-plane.js';
import { ApiError, PineconeError, ValidationError } from '../errors.js';
import { CliError, EXIT } from './exit.js';
import { isPlainHttpAnswer } from './hints.js';
import { InputError } from './input.js';

/** The exit code an error implies (see {@link EXIT}). */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (isPlainHttpAnswer(error)) return EXIT.usage; // a wrong scheme never passes on a retry
  if (error instanceof InputError || error instanceof ValidationError) return EXIT.usage;
  if (error instanceof PineconeError && error.name === 'AbortError') return EXIT.interrupted;
  if (error instanceof ApiError && [400, 401, 403, 404, 422].includes(error.status)) return EXIT.usage;
  return EXIT.failed;
}

/** A commander parser for an integer flag in `[min, max]`. */
export function intOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected an integer from ${min} to ${max}; got ${JSON.stringify(value)}.`,
      );
    }
    return n;
  };
}

/** A commander parser for a positive number flag. */
export function positiveNumberOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number; got ${JSON.stringify(value)}.`);
  }
  return n;
}

/** A commander parser for a flag holding JSON (a filter, a vector). */
export function jsonOption(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message}).`);
  }
}

/** Flags naming the index: `--host` or `--index`, plus `--controller-host` and `--grpc`. */
export interface TargetFlags {
  host?: string;
  index?: string;
  controllerHost?: string;
  grpc?: boolean;
}

/** Add the flags of {@link TargetFlags} to a command. */
export function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--host <host>',
        'data-plane host of the index (e.g. my-index-abc.svc.pinecone.io, or http://127.0.0.1:5081 for the emulator)',
      ).conflicts('index'),
    )
    .addOption(new Option('--index <name>', 'index name; its host is looked up on the controller'))
    .addOption(
      new Option('--controller-host <url>', 'control-plane URL (default https://api.pinecone.io)').env(
        'PINECONE_CONTROLLER_HOST',
      ),
    )
    .option('--grpc', 'talk to the index over gRPC instead of REST', false);
}

/** Flags of a single request's retrying: `--max-retries` (default 3) and `--timeout`. */
export interface RequestFlags {
  maxRetries: number;
  timeout?: number;
}

/** Add the flags of {@link RequestFlags} to a command. */
export function addRequestOptions(command: Command): Command {
  return command
    .option('--max-retries <n>', 'retries of a failed request (0 = a single attempt)', intOption(0, 20), 3)
    .option('--timeout <seconds>', 'per-attempt timeout in seconds', positiveNumberOption);
}

/** The data-plane calls the CLI makes; REST `Index` and `GrpcIndex` both have them. */
export type DataPlane = Pick<IndexDataPlane, 'upsert' | 'query' | 'fetch' | 'describeIndexStats'>;

/** The API key from the environment, or a usage error saying how to set it. */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const key = env.PINECONE_API_KEY;
  if (!key || key.trim() === '') {
    throw new CliError(
      'PINECONE_API_KEY is not set. Export your API key first, e.g. `export PINECONE_API_KEY=...` ' +
        '(for the local emulator started by `pinecone-resilient serve`, any value works).',
    );
  }
  return key;
}

/** A client and the index the flags name. */
export async function openTarget(
  flags: TargetFlags,
  options: Omit<PineconeOptions, 'apiKey' | 'controllerHost' | 'retryConfig'> & { maxRetries: number },
): Promise<{ pc: Pinecone; index: DataPlane }> {
  if (!flags.host && !flags.index) throw new CliError('name the index with --host <host> or --index <name>');
  const { maxRetries, ...rest } = options;
  const pc = new Pinecone({
    ...rest,
    apiKey: apiKeyFromEnv(),
    controllerHost: flags.controllerHost,
    retryConfig: { maxRetries },
  });
  try {
    if (flags.grpc) {
      const host = flags.host ?? (await pc.describeIndex(flags.index as string)).host;
      return { pc, index: await grpcIndex(pc, host, maxRetries) };
    }
    return { pc, index: pc.index(flags.host ? { host: flags.host } : { name: flags.index as string }) };
  } catch (error) {
    await pc.close();
    if (error instanceof ValidationError) throw new CliError(`cannot open the index: ${error.message}`);
    throw error;
  }
}

/**
 * A gRPC index sharing `pc`'s key, logger and limiters, with `maxRetries` (gRPC retrying is
 * tuned on the index, not through `RetryConfig`, so the CLI's `--max-retries` means the same
 * on both transports). The gRPC library loads only here.
 */
export async function grpcIndex(pc: Pinecone, host: string, maxRetries: number): Promise<DataPlane> {
  const { GrpcIndex } = await import('../grpc.js');
  return new GrpcIndex({ host, client: pc, maxRetries });
}
