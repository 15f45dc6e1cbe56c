#!/usr/bin/env node
/**
 * The `pinecone-resilient` command line. Each command lives in its own file and
 * registers itself on the program; this file wires them up and turns outcomes into the
 * documented exit codes (see `EXIT` in common.ts).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { exitCodeFor } from './common.js';
import { registerDemo } from './demo.js';
import { EXIT } from './exit.js';
import { describeError } from './hints.js';
import { registerQuery } from './query.js';
import { serveCommand } from './serve.js';
import { registerStats } from './stats.js';
import { registerUpsert } from './upsert.js';

/** The program with every command registered; `done` receives a command's exit code. */
export function buildProgram(done: (code: number) => void): Command {
  const program = new Command()
    .name('pinecone-resilient')
    .description(
      'Resilient Pinecone tooling: bulk loading with adaptive concurrency, queries, index stats, ' +
        'and a local emulator with fault injection. Start with `pinecone-resilient demo` (no account needed).',
    )
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    // Usage errors become exit code 2 (see main), not commander's default exit(1).
    .exitOverride();
  registerDemo(program, done);
  registerUpsert(program, done);
  registerQuery(program, done);
  registerStats(program, done);
  // serve.ts belongs to the emulator; its examples are added here, with the others'.
  serveCommand(program).addHelpText(
    'after',
    `
Examples:
  $ pinecone-resilient serve --index demo:128                          # controller on :5080, index on the next port
  $ pinecone-resilient serve --port 0 --index docs:768:dotproduct --json   # any free ports; hosts as JSON
  $ pinecone-resilient serve --index demo:8 --rps 50 --retry-after 1   # throttle: 50 req/s, Retry-After on 429s
  $ pinecone-resilient serve --index demo:8 --error-503 0.1 --latency-ms 50 --seed 7   # replayable faults

  Then, in another shell:
  $ export PINECONE_API_KEY=local PINECONE_CONTROLLER_HOST=http://127.0.0.1:5080
  $ pinecone-resilient upsert --index demo --file vectors.jsonl`,
  );
  program.addHelpText(
    'after',
    `
Examples:
  $ pinecone-resilient demo                                   # local emulator, throttled; writes run.html
  $ pinecone-resilient upsert --host my-index-abc123.svc.pinecone.io --file embeddings.jsonl
  $ pinecone-resilient query --index products --id sku-42 --top-k 5 --include-metadata
  $ pinecone-resilient stats --host my-index-abc123.svc.pinecone.io
  $ pinecone-resilient serve --index demo:128 --rps 50       # emulator on :5080 until Ctrl-C

Exit codes: 0 ok · 1 failed after retries (upsert: resume file written) · 2 usage or input error · 130 interrupted.
Run \`pinecone-resilient <command> --help\` for a command's flags.`,
  );
  return program;
}

/** Run the CLI with `argv` (as `process.argv`); resolves to the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the message (or the help / version).
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    process.stderr.write(`error: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // Through npm's bin symlink argv[1] is the link; compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const code = await main();
  process.exitCode = code;
  // Everything is closed by now; if some stray handle would keep the process alive, do
  // not hang a script on it (the timer itself does not keep the process alive).
  setTimeout(() => process.exit(code), 2000).unref();
}
