/**
 * Test helper: run the built CLI (`node dist/cli/main.js`, which `npm test` builds first)
 * as a child process, as a user would, and collect its output and exit code.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Repository root (tests run from it). */
export const ROOT = join(import.meta.dirname, '..', '..');
/** The built CLI. */
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** What a CLI run produced. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Kill the child after this long (ms); default 60 s. */
  timeoutMs?: number;
  /** Called with the child as soon as it is spawned (e.g. to send SIGINT later). */
  onSpawn?: (child: ChildProcess, output: { stdout: string; stderr: string }) => void;
}

/** Run `node <script> ...args` (default script: the built CLI) from the repository root. */
export function runCli(args: readonly string[], options: RunOptions = {}, script = CLI): Promise<CliRun> {
  if (!existsSync(script)) {
    throw new Error(`${script} is missing: run \`npm run build\` first (\`npm test\` does it)`);
  }
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PINECONE_LOG_LEVEL: undefined, ...options.env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output.stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      output.stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output });
    });
    options.onSpawn?.(child, output);
  });
}

/** The words of the `Resume with:` command the CLI printed (paths here have no spaces). */
export function resumeCommand(stderr: string): string[] {
  const match = /Resume with:\n\s+(.+)\n/.exec(stderr);
  if (!match?.[1]) throw new Error(`no resume command in:\n${stderr}`);
  return match[1].trim().split(/\s+/);
}

/** Run a printed command line (`node dist/cli/main.js upsert ...`). */
export function runPrinted(words: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  if (words[0] !== 'node' || !words[1]) throw new Error(`unexpected command: ${words.join(' ')}`);
  return runCli(words.slice(2), options, join(ROOT, words[1]));
}
