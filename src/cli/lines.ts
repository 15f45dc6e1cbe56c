/**
 * Streaming line reader with line numbers. Reads a file in 64 KB chunks, so memory stays
 * bounded by the longest line however large the file is.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** One line of a text file, without its line terminator. */
export interface Line {
  /** 1-based line number in the file. */
  number: number;
  text: string;
}

/**
 * The lines of a UTF-8 text file, one at a time (`\n` or `\r\n` endings; a final line
 * without a terminator counts). Closing the generator early closes the file.
 */
export async function* readLines(path: string): AsyncGenerator<Line, void, undefined> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let number = 0;
  try {
    for await (const chunk of stream) {
      pending += decoder.write(chunk as Buffer);
      let start = 0;
      let nl = pending.indexOf('\n', start);
      while (nl !== -1) {
        number++;
        yield { number, text: stripCr(pending.slice(start, nl)) };
        start = nl + 1;
        nl = pending.indexOf('\n', start);
      }
      pending = pending.slice(start);
    }
    pending += decoder.end();
    if (pending.length > 0) {
      number++;
      yield { number, text: stripCr(pending) };
    }
  } finally {
    stream.destroy();
  }
}

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/**
 * Number of lines in a file, counted by scanning bytes for `\n` (a last line without one
 * counts). Fast enough to size a progress bar before a long upload.
 */
export async function countLines(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let lines = 0;
    let last = -1;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      last = buffer[bytesRead - 1] ?? -1;
    }
    return last !== -1 && last !== 10 ? lines + 1 : lines;
  } finally {
    await handle.close();
  }
}
