/** Plain-fetch helpers for the emulator's integration tests (no SDK involved). */

/** A response read once: status, headers, and the body as JSON when it parses, else text. */
export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  body: any;
  text: string;
}

/** Send a request; a non-string body is sent as JSON (declared so, unless `headers` sets a content type). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers: { 'X-Pinecone-Api-Version': '2025-10', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const given = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
    if (!given) (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** `count` vectors `prefix0..` of `dim` values each (value i of vector k is (k + i) % 7 / 7). */
export function vectors(count: number, dim: number, prefix = 'v', metadata?: (k: number) => object) {
  return Array.from({ length: count }, (_, k) => ({
    id: `${prefix}${k}`,
    values: Array.from({ length: dim }, (_, i) => ((k + i) % 7) / 7),
    ...(metadata ? { metadata: metadata(k) } : {}),
  }));
}

/**
 * Read `read()` until `done` holds of it (at most `tries` reads, `ms` apart), for what the
 * server records a moment after the client sees the connection go; returns the last value.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  tries = 100,
  ms = 20,
): Promise<T> {
  let value = await read();
  for (let i = 1; i < tries && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    value = await read();
  }
  return value;
}
