#!/usr/bin/env node
/**
 * The `pinecone-resilient` command line. Each command lives in its own file and
 * registers itself on the program.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { serveCommand } from './serve.js';

const program = new Command()
  .name('pinecone-resilient')
  .description('Resilient Pinecone tooling: a local emulator with fault injection, bulk loading and more')
  .version(VERSION);

serveCommand(program);

await program.parseAsync(process.argv);
