/**
 * pinecone-resilient: the REST client, configuration and errors.
 * @packageDocumentation
 */

export * from './data/types.js';
export * from './errors.js';
export type { LogFields, Logger } from './log.js';
export { ADAPTIVE_LOGGER, HTTP_CLIENT_LOGGER } from './log.js';
export { type Clock, ManualClock, type RandomSource, seededRandom, systemClock } from './resilience/clock.js';
export { API_VERSION, VERSION } from './version.js';
