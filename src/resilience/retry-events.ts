/**
 * The retry loop's log records, with the per-client memory the spec asks for (the INFO
 * record fires once per host per client). One instance per client; no global state.
 */
import { HTTP_CLIENT_LOGGER, type Logger, rateLimitedMessage, throttledMessage } from '../log.js';

/** Emits the http_client namespace's records for one client. */
export class RetryEvents {
  private readonly rateLimitedHosts = new Set<string>();

  constructor(readonly logger: Logger) {}

  /** A host rate-limited us: INFO the first time for that host on this client. */
  rateLimited(host: string): void {
    if (this.rateLimitedHosts.has(host)) return;
    this.rateLimitedHosts.add(host);
    this.logger.info(rateLimitedMessage(host), { logger: HTTP_CLIENT_LOGGER, event: 'rate_limited', host });
  }

  /** A retryable response (or network failure) is about to be retried after `delaySeconds`. */
  retrying(
    status: number | string,
    host: string,
    attempt: number,
    totalAttempts: number,
    delaySeconds: number,
  ): void {
    this.logger.debug(throttledMessage(status, host, attempt, totalAttempts, delaySeconds), {
      logger: HTTP_CLIENT_LOGGER,
      event: 'throttled_response',
      status,
      host,
      attempt,
      totalAttempts,
      delaySeconds,
    });
  }
}
