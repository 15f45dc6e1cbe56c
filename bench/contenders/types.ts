/**
 * What every contender of `bench/adaptive-regimes.ts` implements: load the same records
 * into one emulator index, as its own client would, and say what it believes happened.
 * The benchmark judges by the emulator's stats, not by these claims.
 */

/** A record as every client here takes it. */
export interface BenchVector {
  id: string;
  values: number[];
}

/** One run's input. */
export interface RunInput {
  /** REST host of the (fresh) index, `http://127.0.0.1:PORT`. */
  host: string;
  /** The emulator's control-plane host (the official client wants one). */
  controllerHost: string;
  vectors: BenchVector[];
  batchSize: number;
  /** Retry settings of the regime, the same for every contender (default: the contender's own). */
  retries?: { maxRetries: number; timeout?: number | undefined } | undefined;
}

/** What a contender reports about its own run. */
export interface RunReport {
  /** Vectors the client believes were written. */
  claimed: number;
  /** Why the run ended early or what failed (undefined when the client reported success). */
  failure?: string | undefined;
  /** Short diagnostics for the table's notes column (limiter figures, failed batches). */
  notes?: string[] | undefined;
  /** Timestamped trace lines (limiter transitions), printed with `--trace`. */
  trace?: string[] | undefined;
}

/** A client under test. */
export interface Contender {
  /** Short label in the table. */
  name: string;
  /** Load `input.vectors` into the index at `input.host`; never throws (failures go in the report). */
  run(input: RunInput): Promise<RunReport>;
}

/** A short description of an error: its class, status and message, first line only. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { status?: unknown }).status;
  const message = error.message.split('\n')[0]!.slice(0, 90);
  return `${error.name}${typeof status === 'number' ? ` ${status}` : ''}: ${message}`;
}
