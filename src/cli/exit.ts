/**
 * The CLI's exit codes and the error that carries one. Kept apart from `common.ts` (which
 * opens SDK clients) so that `serve`, which imports only the emulator, can use them too.
 */

/**
 * Exit codes scripts can rely on:
 * - `0` done;
 * - `1` failed for a reason that may pass (throttling, server or network errors after the
 *   retries): try again later; an `upsert` wrote a resume file;
 * - `2` the command cannot succeed as given (bad flags, no API key, malformed input, the
 *   server rejected the request as invalid, unknown index, bad key): fix it first;
 * - `130` interrupted (Ctrl-C); an `upsert` wrote a resume file.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** An error the CLI reports as one line, with the exit code it implies. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
  }
}
