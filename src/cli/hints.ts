/**
 * The one line the CLI prints for an error, with advice where a failure has a usual cause:
 * an `https` request to a plain-HTTP host (the local emulator) gets the fix in CLI words,
 * a refused connection does not say how often it was tried. The SDK's messages stay as they
 * are for programs; this is the command line's reading of them.
 */
import { ApiError, ConnectionError, type PineconeError, TLS_TO_PLAIN_HTTP } from '../errors.js';

/** Whether `error` is an https request answered in plain HTTP (a host missing `http://`). */
export function isPlainHttpAnswer(error: unknown): error is ConnectionError {
  return error instanceof ConnectionError && error.code === TLS_TO_PLAIN_HTTP;
}

/** The error as the CLI prints it after `error: ` (the message, with advice where it helps). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (isPlainHttpAnswer(error)) {
    return (
      `${error.host} answered an https request in plain HTTP (${attemptsText(error.attempts)}: not retried, ` +
      'it would answer every attempt the same way). ' +
      `The local emulator speaks plain HTTP: add http:// to the host, e.g. http://${error.host}`
    );
  }
  if (error instanceof ConnectionError || error instanceof ApiError) {
    const tries = attemptsText(error.attempts);
    if (/ECONNREFUSED/.test(`${error.message} ${causeText(error)}`)) {
      return (
        `Could not connect to ${error.host}: connection refused (ECONNREFUSED), ${tries}. ` +
        'Nothing listens there: is the server (e.g. `pinecone-resilient serve`) running, and is the port right?'
      );
    }
    if (error instanceof ConnectionError) return `${error.message} (${tries})`;
  }
  return error.message;
}

/** `after 1 attempt`, `after 4 attempts`. */
function attemptsText(attempts: number): string {
  return `after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
}

function causeText(error: PineconeError): string {
  const cause = error.cause;
  if (cause instanceof Error) return `${(cause as Error & { code?: unknown }).code ?? ''} ${cause.message}`;
  return '';
}
