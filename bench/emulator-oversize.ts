/**
 * Oversized request bodies against the emulator (issue 15): `--clients` connections each
 * send a body of `--mb` MB at once (declared by Content-Length, or chunked so only the
 * running count can tell), and the table shows how long until every client had its
 * answer, what the answers were, and the emulator's resident memory (start, peak, after).
 * The emulator runs as `pinecone-resilient serve` in a child process, from this checkout,
 * and with `--baseline DIR` also from another checkout (e.g. main before the fix), side
 * by side.
 *
 *   npx tsx bench/emulator-oversize.ts [--clients 8] [--mb 31] [--baseline /path/to/checkout]
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { arg, markdownTable } from './cli-table.js';

const CLIENTS = Number(arg('clients', '8'));
const MB = Number(arg('mb', '31'));
const BASELINE = arg('baseline', '');
const HERE = join(fileURLToPath(new URL('.', import.meta.url)), '..');

interface Emulator {
  child: ChildProcess;
  host: string;
  port: number;
}

async function startEmulator(root: string): Promise<Emulator> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--port', '0', '--json', '-i', 'big:4'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const url = new URL((JSON.parse(line) as { indexes: Record<string, string> }).indexes.big!);
  return { child, host: url.hostname, port: Number(url.port) };
}

/** Resident memory of a process, MB: now and the peak so far (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Send one oversized upsert; resolve with the status seen (or the socket error) and the time. */
function sendOne(e: Emulator, body: Buffer, chunked: boolean): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(e.port, e.host);
    let data = '';
    let done = false;
    const finish = (answer: string) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ answer, ms: performance.now() - started });
    };
    socket.on('connect', () => {
      const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${body.length}`;
      socket.write(
        `POST /vectors/upsert HTTP/1.1\r\nhost: ${e.host}:${e.port}\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`,
      );
      if (chunked) socket.write(`${body.length.toString(16)}\r\n`);
      socket.write(body);
      if (chunked) socket.write('\r\n0\r\n\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (status) finish(status[1]!);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => finish('closed'));
  });
}

/**
 * A valid JSON upsert of about `bytes` bytes: vectors of 1536 full-precision floats (the
 * shape of a real embedding batch, only too big), which parses if it is ever read whole.
 */
function oversizedUpsert(bytes: number): Buffer {
  const values = Array.from({ length: 1536 }, (_, i) => Math.fround(Math.sin(i + 1) / 3));
  const parts: string[] = [];
  let size = 14;
  for (let k = 0; size < bytes; k++) {
    const v = JSON.stringify({ id: `v${k}`, values });
    parts.push(v);
    size += v.length + 1;
  }
  return Buffer.from(`{"vectors":[${parts.join(',')}]}`);
}

async function run(label: string, root: string, chunked: boolean): Promise<string[]> {
  const e = await startEmulator(root);
  try {
    const start = memory(e.child.pid!);
    const body = oversizedUpsert(MB * 1024 * 1024);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => sendOne(e, body, chunked)));
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 500));
    const after = memory(e.child.pid!);
    const answers = new Map<string, number>();
    for (const r of results) answers.set(r.answer, (answers.get(r.answer) ?? 0) + 1);
    return [
      label,
      chunked ? 'chunked' : 'Content-Length',
      seconds.toFixed(2),
      [...answers].map(([a, n]) => `${a} x${n}`).join(', '),
      start.rss.toFixed(0),
      after.peak.toFixed(0),
      after.rss.toFixed(0),
    ];
  } finally {
    e.child.kill('SIGTERM');
    await once(e.child, 'exit');
  }
}

const rows: string[][] = [];
for (const chunked of [false, true]) {
  rows.push(await run('this checkout', HERE, chunked));
  if (BASELINE) rows.push(await run(`baseline ${BASELINE}`, BASELINE, chunked));
}
process.stdout.write(`${CLIENTS} concurrent upserts of ${MB} MB each to one index host\n\n`);
process.stdout.write(
  `${markdownTable(['emulator', 'framing', 'all answered s', 'answers', 'RSS start MB', 'RSS peak MB', 'RSS after MB'], rows)}\n`,
);
