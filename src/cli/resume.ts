/**
 * The resume file: when a load stops early, every record not confirmed written goes to a
 * JSON Lines file (the vectors the SDK reports as not written, then the part of the input
 * never read), and the CLI prints the exact command that finishes the load from it.
 * Upserts are idempotent by id, so resuming never duplicates a record.
 */
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { vectorJson } from '../data/encode.js';
import type { Vector } from '../data/types.js';

/** What went into a resume file. */
export interface ResumeFileSummary {
  path: string;
  /** Records the SDK reported as not written (`error.failedVectors`). */
  failed: number;
  /** Records (lines) of the input that were never read. */
  unread: number;
}

/**
 * Write the resume file atomically (a temporary file renamed into place, so a crash never
 * leaves a truncated file that looks complete).
 */
export async function writeResumeFile(
  path: string,
  failed: Iterable<Vector>,
  rest?: AsyncIterable<string>,
): Promise<ResumeFileSummary> {
  const temporary = `${path}.partial`;
  const out = createWriteStream(temporary, { encoding: 'utf8' });
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  const summary: ResumeFileSummary = { path, failed: 0, unread: 0 };
  try {
    for (const vector of failed) {
      await write(vectorJson(vector));
      summary.failed++;
    }
    if (rest) {
      for await (const line of rest) {
        await write(line);
        summary.unread++;
      }
    }
    out.end();
    await once(out, 'finish');
    await rename(temporary, path);
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
  return summary;
}

/**
 * Where to write the resume file of `input` when the user names none: beside it,
 * `<name>.resume.jsonl`, else `<name>.resume-2.jsonl`, ... (never the input itself and never
 * an existing file, which may be an earlier resume file not yet used).
 */
export function defaultResumePath(input: string): string {
  const dir = dirname(input);
  const stem = basename(input)
    .replace(/\.(jsonl|ndjson|json|csv|npy)$/i, '')
    .replace(/\.resume(-\d+)?$/, '');
  for (let n = 1; ; n++) {
    const candidate = join(dir, `${stem}.resume${n === 1 ? '' : `-${n}`}.jsonl`);
    if (resolve(candidate) !== resolve(input) && !existsSync(candidate)) return candidate;
  }
}

/** Quote one shell word (POSIX sh) only when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * How the user ran this CLI, for commands we print: `pinecone-resilient` when run through
 * its bin, else `node <script>` relative to the working directory.
 */
export function invokedAs(argv: readonly string[] = process.argv, cwd = process.cwd()): string {
  const script = argv[1];
  if (!script || basename(script) === 'pinecone-resilient') return 'pinecone-resilient';
  const rel = relative(cwd, script);
  return `node ${shellQuote(rel.startsWith('..') ? script : rel)}`;
}

/** A command line from words, each quoted as needed. */
export function commandLine(program: string, words: readonly string[]): string {
  return [program, ...words.map(shellQuote)].join(' ');
}
