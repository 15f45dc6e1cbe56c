/**
 * Test clocks. `InstantClock` makes every sleep resolve at once while recording it and
 * advancing virtual time, so retry schedules are exact and tests never wait.
 */

import { AbortError } from '../../src/errors.js';
import type { Clock } from '../../src/resilience/clock.js';

/** Sleeps resolve immediately; their durations are recorded. */
export class InstantClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}

/** A logger that keeps records. */
export function recordingLogger() {
  const records: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown>) => {
    records.push({ level, message, fields });
  };
  return { records, logger: { debug: at('debug'), info: at('info'), warn: at('warn') } };
}
