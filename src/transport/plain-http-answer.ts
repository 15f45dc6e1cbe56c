/**
 * An `https` (TLS) request to a host that speaks plain HTTP, such as the local emulator
 * given without `http://`: the server reads the TLS ClientHello as a malformed HTTP request
 * and answers in plain text, which OpenSSL reports as `wrong version number` or `packet
 * length too long`. Every attempt is answered the same way, so both transports turn it
 * into one `ConnectionError` with code {@link TLS_TO_PLAIN_HTTP}, which their classifiers
 * do not retry. A reset or a timeout during the handshake is not this failure: it keeps
 * its own code and is retried. A leaf module (no grpc-js, no undici), shared by both
 * transports.
 */
import { ConnectionError, TLS_TO_PLAIN_HTTP } from '../errors.js';
import type { FailureClass } from '../resilience/retry.js';

/** Node's codes for OpenSSL's reading of a plain-HTTP answer to a ClientHello. */
const OPENSSL_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
]);
/** The same in OpenSSL's words, for grpc-js, which passes on only the text. */
const OPENSSL_TEXT = /wrong[ _]version[ _]number|packet[ _]length[ _]too[ _]long/i;

/**
 * OpenSSL's reason (`wrong version number`) when a failure is a plain-HTTP answer to a TLS
 * request, else undefined. `evidence` is Node's error code (REST: undici passes on the TLS
 * socket's error) or grpc-js's details, which carry only OpenSSL's text.
 */
export function plainHttpAnswerReason(evidence: string | undefined): string | undefined {
  if (!evidence) return undefined;
  const reason = OPENSSL_CODES.has(evidence) ? evidence : OPENSSL_TEXT.exec(evidence)?.[0];
  return reason
    ?.replace(/^ERR_SSL_/, '')
    .replace(/_/g, ' ')
    .toLowerCase();
}

/** The error a transport throws for it: what happened, the fix, and why it is not retried. */
export function plainHttpAnswerError(
  host: string,
  reason: string,
  init: { attempts: number; cause: unknown },
): ConnectionError {
  return new ConnectionError(
    `${host} answered a TLS (https) request in plain HTTP (OpenSSL: ${reason}): it serves http://, ` +
      `not https://. Give the host as http://${host} (the local emulator speaks plain HTTP), or check the port. ` +
      'Not retried: every attempt would be answered the same way.',
    { host, attempts: init.attempts, code: TLS_TO_PLAIN_HTTP, cause: init.cause },
  );
}

/**
 * What the retry loop does about a `ConnectionError` of either transport: retried (the
 * server never answered, so it says nothing about load: neutral for the limiter), except
 * a plain-HTTP answer to TLS, which no retry can mend. The log label is the network code.
 */
export function classifyConnectionFailure(error: ConnectionError): FailureClass {
  return {
    retryable: error.code !== TLS_TO_PLAIN_HTTP,
    throttle: false,
    rateLimited: false,
    label: error.code ?? 'NETWORK',
  };
}
