/**
 * The bulk-upsert progress display: vectors done, rate, the adaptive limit, requests in
 * flight and throttled responses. On a terminal it is a `cli-progress` bar redrawn in
 * place; otherwise (CI logs, pipes) it degrades to one plain line every few seconds.
 *
 * It writes to stderr by default, so stdout carries only results (summary tables, JSON)
 * and `| jq` or `> out.txt` capture them cleanly. The bar is drawn only when stdout and
 * stderr are both terminals.
 */
import cliProgress from 'cli-progress';
import type { UpsertProgress } from '../data/index.js';
import { formatNumber } from './format.js';

/** Options of {@link ProgressView}. */
export interface ProgressViewOptions {
  /** Records expected, when known (a bar needs it; plain lines show a percentage). */
  total?: number | undefined;
  /** Where to draw. Default `process.stderr`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw a bar (true) or plain lines (false). Default: whether `stream` and stdout are TTYs. */
  interactive?: boolean;
  /** Plain mode: one line every this many ms. Default 2000. */
  intervalMs?: number;
  /** Time source in ms (tests pass a fake). Default `performance.now`. */
  now?: () => number;
  /** Prefix of plain lines. Default `upsert`. */
  label?: string;
}

const RATE_WINDOW_MS = 2000;

/** Shows a bulk upsert's progress; feed it every `onProgress` report. */
export class ProgressView {
  #latest: UpsertProgress = { upserted: 0, inFlight: 0, limit: 0, throttled: 0 };
  readonly #samples: { t: number; upserted: number }[] = [];
  readonly #now: () => number;
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #interactive: boolean;
  readonly #intervalMs: number;
  readonly #label: string;
  #total: number | undefined;
  #start = 0;
  #running = false;
  #stoppedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #bar: cliProgress.SingleBar | undefined;

  constructor(options: ProgressViewOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#stream = options.stream ?? process.stderr;
    // A bar only when both are terminals: with stdout redirected or piped (a log, CI), or
    // stderr captured, plain lines; never escape codes in a file.
    this.#interactive = options.interactive ?? (this.#stream.isTTY === true && process.stdout.isTTY === true);
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#label = options.label ?? 'upsert';
    this.#total = options.total;
  }

  /** Begin drawing (a bar, or the timer of plain lines). */
  start(): void {
    this.#start = this.#now();
    this.#running = true;
    this.#stoppedAt = undefined;
    this.#samples.push({ t: this.#start, upserted: 0 });
    if (this.#interactive) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.#stream as NodeJS.WriteStream,
          format:
            '{bar} {percentage}% | {done}/{all} vectors | {rate} vec/s | limit {limit} | in flight {inFlight} | throttled {throttled} | {elapsed}',
          barsize: 28,
          hideCursor: true,
          fps: 8,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(Math.max(1, this.#total ?? 1), 0, this.#payload());
      this.#timer = setInterval(() => this.#redraw(), 250);
    } else {
      this.#timer = setInterval(() => this.#stream.write(`${this.line()}\n`), this.#intervalMs);
    }
    this.#timer.unref();
  }

  /** Set (or correct) the number of records expected. */
  setTotal(total: number): void {
    if (!this.#running && this.#stoppedAt !== undefined) return; // too late to matter
    this.#total = Math.max(total, this.#latest.upserted);
  }

  /** Record a progress report (cheap; the display redraws on its own schedule). */
  update(progress: UpsertProgress): void {
    this.#latest = { ...progress };
    const t = this.#now();
    const last = this.#samples[this.#samples.length - 1];
    if (!last || t - last.t >= 100) this.#samples.push({ t, upserted: progress.upserted });
    while (this.#samples.length > 2 && t - (this.#samples[1]?.t ?? t) > RATE_WINDOW_MS) this.#samples.shift();
    if (this.#total !== undefined && progress.upserted > this.#total) this.#total = progress.upserted;
  }

  /** Vectors per second over the last ~2 s (since the start, early on). */
  rate(): number {
    const first = this.#samples[0];
    const t = this.#now();
    if (!first || t - first.t <= 0) return 0;
    return ((this.#latest.upserted - first.upserted) * 1000) / (t - first.t);
  }

  /** The plain status line. */
  line(): string {
    const p = this.#latest;
    const done =
      this.#total !== undefined && this.#total > 0
        ? `${formatNumber(p.upserted)}/${formatNumber(this.#total)} (${Math.floor((p.upserted * 100) / this.#total)}%)`
        : formatNumber(p.upserted);
    return (
      `[${this.#label}] ${done} vectors · ${formatNumber(this.rate())} vec/s · limit ${p.limit || '-'} · ` +
      `in flight ${p.inFlight} · throttled ${formatNumber(p.throttled)} · ${this.#elapsed()}`
    );
  }

  /** Stop drawing; plain mode prints a last line so logs end with the final figures. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    this.#running = false;
    this.#stoppedAt = this.#now();
    if (this.#bar) {
      this.#redraw();
      this.#bar.stop();
      this.#bar = undefined;
    } else {
      this.#stream.write(`${this.line()}\n`);
    }
  }

  #redraw(): void {
    if (!this.#bar) return;
    if (this.#total !== undefined) this.#bar.setTotal(Math.max(1, this.#total));
    this.#bar.update(this.#latest.upserted, this.#payload());
  }

  #payload(): Record<string, string | number> {
    const p = this.#latest;
    return {
      done: formatNumber(p.upserted),
      all: this.#total === undefined ? '?' : formatNumber(this.#total),
      rate: formatNumber(this.rate()),
      limit: p.limit || '-',
      inFlight: p.inFlight,
      throttled: formatNumber(p.throttled),
      elapsed: this.#elapsed(),
    };
  }

  #elapsed(): string {
    return `${(((this.#stoppedAt ?? this.#now()) - this.#start) / 1000).toFixed(1)} s`;
  }
}
