/**
 * Generated HTTP/1.1 responses, as raw bytes, for the REST response fuzzer: statuses of
 * every class, headers a server should not send (duplicated, missing, wrong types,
 * Retry-After values such as `-1`, `1e309`, past dates, garbage), bodies that are empty,
 * huge, not UTF-8, not JSON or JSON of the wrong shape, and framings that are exact,
 * chunked, delimited by the close, short, long, conflicting, garbage, or never finished.
 *
 * Each reply says what it means for the judge:
 * - `status`: a response a conforming HTTP parser reads as that status with that body;
 * - `broken`: no response can be read from it (only a network failure or a timeout fits);
 * - `ambiguous`: parsers may differ (only "a typed error or a valid result" is judged).
 */
import fc from 'fast-check';
import type { AfterReply, RawReply } from '../helpers/raw-response-server.js';

/** The fuzzed client's API key: a reply may echo it, no error may show it. */
export const FUZZ_KEY = 'fuzz-api-key-7f3a9c-SECRET';

/** What a reply means to a conforming client. */
export type ReplyMeaning =
  /** `wellFormed`: the body is the operation's answer as Pinecone sends it, whole. */
  { kind: 'status'; status: number; wellFormed: boolean } | { kind: 'broken' } | { kind: 'ambiguous' };

/** One generated reply. */
export interface GeneratedReply {
  reply: RawReply;
  meaning: ReplyMeaning;
  /** The client must give up on it by its timeout (a short one is used). */
  stalls: boolean;
  /** Short description for failure reports. */
  label: string;
}

const CRLF = '\r\n';

/** Statuses: mostly real ones, some no API sends. */
const status = fc.oneof(
  { weight: 6, arbitrary: fc.constant(200) },
  { weight: 2, arbitrary: fc.constantFrom(201, 202, 203, 204, 206) },
  { weight: 1, arbitrary: fc.constantFrom(300, 301, 302, 303, 304, 307, 308) },
  { weight: 3, arbitrary: fc.constantFrom(400, 401, 403, 404, 408, 409, 412, 413, 422, 429) },
  { weight: 1, arbitrary: fc.integer({ min: 400, max: 499 }) },
  { weight: 3, arbitrary: fc.constantFrom(500, 502, 503, 504) },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 599 }) },
  { weight: 1, arbitrary: fc.integer({ min: 600, max: 999 }) },
);

/** Retry-After values, the good, the odd and the hostile. */
export const retryAfterValue = fc.oneof(
  fc.constantFrom(
    '0',
    '1',
    '2',
    '1.5',
    '-1',
    '1e309',
    '1e3',
    'NaN',
    'Infinity',
    '-0',
    '99999999999999999999',
    ' 3 ',
    '0x10',
    '',
    'soon',
    'Wed, 21 Oct 2015 07:28:00 GMT',
    'Fri, 31 Dec 9999 23:59:59 GMT',
    'Thu, 01 Jan 1970 00:00:00 GMT',
    'Mon, 32 Foo 2020 99:99:99 GMT',
    '-4',
  ),
  fc.nat().map(String),
  fc.double().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
);

/** A header value: printable ASCII (no CR/LF), now and then obs-text bytes. */
const headerValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 10 }).map(obsText) },
);

function obsText(bytes: Uint8Array): string {
  // Bytes 0x80-0xFF are obs-text, allowed in a field value; written as latin1.
  return Buffer.from(Array.from(bytes, (b) => 0x80 | b)).toString('latin1');
}

const token = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,15}$/);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'text/html; charset=utf-8',
  'application/grpc',
  'application/octet-stream',
  'garbage',
  '',
);

/** Headers besides the framing: [name, value] pairs, duplicates allowed. */
const headers = fc
  .record({
    contentType: fc.option(fc.array(contentType, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    retryAfter: fc.option(fc.array(retryAfterValue, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    retryAfterMs: fc.option(retryAfterValue, { freq: 6, nil: undefined }),
    requestId: fc.option(fc.array(headerValue, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    echoKey: fc.boolean(),
    extra: fc.array(fc.tuple(token, headerValue), { maxLength: 3 }),
  })
  .map((h) => {
    const out: [string, string][] = [];
    for (const v of h.contentType ?? []) out.push(['Content-Type', v]);
    for (const v of h.retryAfter ?? []) out.push(['Retry-After', v]);
    if (h.retryAfterMs !== undefined) out.push(['retry-after-ms', h.retryAfterMs]);
    for (const v of h.requestId ?? []) out.push(['x-pinecone-request-id', v]);
    if (h.echoKey) out.push(['x-echo', FUZZ_KEY]);
    // Framing headers come from the framing; a random one must not clash with it.
    for (const [name, value] of h.extra) {
      if (!/^(content-length|transfer-encoding|connection|upgrade)$/i.test(name)) out.push([name, value]);
    }
    return out;
  });

/** A JSON error body in one of Pinecone's shapes, or what proxies send. */
const errorBody = fc.oneof(
  fc.record({ error: fc.record({ code: token, message: fc.string() }), status: fc.integer() }).map(json),
  fc.record({ code: fc.integer(), message: fc.string(), details: fc.constant([]) }).map(json),
  fc.record({ message: fc.string() }).map(json),
  fc.constant(`{"error":{"code":"UNAUTHENTICATED","message":"bad key ${FUZZ_KEY}"}}`),
  fc.constant('<html><body><h1>502 Bad Gateway</h1></body></html>'),
  fc.constant('upstream connect error or disconnect/reset before headers'),
);

function json(v: unknown): string {
  return JSON.stringify(v);
}

/** A body, and whether it is the operation's well-formed answer, whole. */
interface Body {
  bytes: Buffer;
  wellFormed: boolean;
}

/** A body for a status, given the operation's well-formed answer (weights per thousand). */
function body(wellFormed: fc.Arbitrary<unknown>): fc.Arbitrary<Body> {
  const odd = (a: fc.Arbitrary<string | Buffer>) =>
    a.map((s): Body => ({ bytes: typeof s === 'string' ? Buffer.from(s, 'utf8') : s, wellFormed: false }));
  return fc.oneof(
    {
      weight: 300,
      arbitrary: wellFormed.map((v): Body => ({ bytes: Buffer.from(json(v)), wellFormed: true })),
    },
    { weight: 100, arbitrary: odd(errorBody) },
    { weight: 50, arbitrary: odd(fc.constantFrom('', ' ', '\n\t ')) },
    {
      weight: 100,
      arbitrary: odd(fc.constantFrom('null', '[]', '0', '"x"', 'true', '{}', '[{}]', '{"matches":null}')),
    },
    // The well-formed answer with one top-level field replaced by any JSON value.
    {
      weight: 200,
      arbitrary: odd(
        fc
          .tuple(wellFormed, fc.jsonValue({ maxDepth: 3 }), fc.nat())
          .map(([good, value, k]) => json(replaceField(good, value, k))),
      ),
    },
    { weight: 50, arbitrary: odd(fc.json({ maxDepth: 4 })) },
    { weight: 50, arbitrary: odd(fc.string({ maxLength: 40 })) },
    { weight: 50, arbitrary: odd(fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))) },
    // Not UTF-8: a lone continuation byte, an overlong form, a surrogate, a UTF-16 mark.
    {
      weight: 40,
      arbitrary: odd(
        fc
          .constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe])
          .map((bad) => Buffer.concat([Buffer.from('{"namespace":"'), Buffer.from(bad), Buffer.from('"}')])),
      ),
    },
    // A byte-order mark before the answer (RFC 8259: a parser may refuse it or skip it).
    { weight: 20, arbitrary: odd(wellFormed.map((v) => `\ufeff${json(v)}`)) },
    // JSON nested far deeper than any answer; a large body (a few per thousand).
    {
      weight: 20,
      arbitrary: odd(fc.integer({ min: 1000, max: 100_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`)),
    },
    {
      weight: 3,
      arbitrary: odd(fc.integer({ min: 1, max: 4 }).map((mib) => json({ namespace: 'x'.repeat(mib << 20) }))),
    },
  );
}

function replaceField(good: unknown, value: unknown, k: number): unknown {
  if (typeof good !== 'object' || good === null) return value;
  const keys = Object.keys(good);
  if (keys.length === 0) return { extra: value };
  return { ...good, [keys[k % keys.length]!]: value };
}

type Framing =
  | 'length'
  | 'chunked'
  | 'eof'
  | 'interim'
  | 'http10'
  | 'long'
  | 'short'
  | 'dup-length'
  | 'bad-chunk'
  | 'garbage'
  | 'nothing'
  | 'reset'
  | 'stall-head'
  | 'stall-body'
  | 'bare-lf';

/** Framings, weights per thousand: exact ones mostly; stalls cost a timeout each, so few. */
const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 600, arbitrary: fc.constant<Framing>('length') },
  { weight: 150, arbitrary: fc.constant<Framing>('chunked') },
  { weight: 100, arbitrary: fc.constant<Framing>('eof') },
  {
    weight: 90,
    arbitrary: fc.constantFrom<Framing>('interim', 'http10', 'long', 'short', 'dup-length', 'bad-chunk'),
  },
  { weight: 55, arbitrary: fc.constantFrom<Framing>('garbage', 'nothing', 'reset', 'bare-lf') },
  { weight: 5, arbitrary: fc.constantFrom<Framing>('stall-head', 'stall-body') },
);

function head(line: string, fields: [string, string][]): Buffer {
  const text = `${line}${CRLF}${fields.map(([n, v]) => `${n}: ${v}${CRLF}`).join('')}${CRLF}`;
  return Buffer.from(text, 'latin1');
}

function chunks(b: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= b.length) break;
    const piece = b.subarray(at, at + Math.max(1, size));
    parts.push(Buffer.from(`${piece.length.toString(16)}${CRLF}`), piece, Buffer.from(CRLF));
    at += piece.length;
  }
  if (at < b.length) {
    const rest = b.subarray(at);
    parts.push(Buffer.from(`${rest.length.toString(16)}${CRLF}`), rest, Buffer.from(CRLF));
  }
  parts.push(Buffer.from(`0${CRLF}${CRLF}`));
  return Buffer.concat(parts);
}

/** A reply for an operation whose well-formed answer is `wellFormed`. */
export function restReply(wellFormed: fc.Arbitrary<unknown>): fc.Arbitrary<GeneratedReply> {
  return fc
    .record({
      status,
      reason: fc.constantFrom('OK', 'Error', '', 'Whatever It Is', 'Ünïcödé'),
      headers,
      body: body(wellFormed),
      framing,
      cut: fc.nat(),
      sizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }),
      garbage: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    })
    .map((g): GeneratedReply => {
      // 1xx, 204 and 304 have no body: bytes after their head would start the next response.
      const bodiless = g.status === 204 || g.status === 304;
      const b = bodiless ? Buffer.alloc(0) : g.body.bytes;
      const wellFormed = !bodiless && g.body.wellFormed;
      const line = `HTTP/1.1 ${g.status} ${g.reason}`;
      const withLength = (n: number | string, extra: [string, string][] = []) =>
        head(line, [...g.headers, ...extra, ['Content-Length', String(n)]]);
      const reply = (bytes: Buffer, after: AfterReply) => ({ bytes, after });
      const status = (bytes: Buffer, after: AfterReply, whole = true): GeneratedReply => ({
        reply: reply(bytes, after),
        meaning: { kind: 'status', status: g.status, wellFormed: wellFormed && whole },
        stalls: false,
        label: `${g.framing} ${g.status} (${b.length} bytes)`,
      });
      const broken = (bytes: Buffer, after: AfterReply, stalls = false): GeneratedReply => ({
        reply: reply(bytes, after),
        meaning: { kind: 'broken' },
        stalls,
        label: `${g.framing} ${g.status}`,
      });
      switch (g.framing) {
        case 'length':
          return status(Buffer.concat([withLength(b.length), b]), 'keep');
        case 'chunked':
          return bodiless
            ? status(withLength(0), 'keep')
            : status(
                Buffer.concat([
                  head(line, [...g.headers, ['Transfer-Encoding', 'chunked']]),
                  chunks(b, g.sizes),
                ]),
                'keep',
              );
        case 'eof':
          return bodiless
            ? status(Buffer.concat([head(line, [...g.headers, ['Connection', 'close']])]), 'close')
            : status(Buffer.concat([head(line, [...g.headers, ['Connection', 'close']]), b]), 'close');
        case 'interim':
          return status(
            Buffer.concat([
              Buffer.from(`HTTP/1.1 103 Early Hints${CRLF}Link: </x>${CRLF}${CRLF}`),
              withLength(b.length),
              b,
            ]),
            'keep',
          );
        case 'http10':
          return status(
            Buffer.concat([
              head(`HTTP/1.0 ${g.status} ${g.reason}`, [...g.headers, ['Content-Length', String(b.length)]]),
              b,
            ]),
            'close',
          );
        case 'long': {
          // Content-Length shorter than the body: the client reads that much; the rest is
          // garbage on a connection that is closed at once.
          if (b.length < 2) return status(Buffer.concat([withLength(b.length), b]), 'keep');
          const n = 1 + (g.cut % (b.length - 1));
          return status(Buffer.concat([withLength(n, [['Connection', 'close']]), b]), 'close', false);
        }
        case 'short':
          return bodiless
            ? status(withLength(0), 'keep')
            : broken(Buffer.concat([withLength(b.length + 1 + (g.cut % 100)), b]), 'close');
        case 'dup-length':
          return broken(
            Buffer.concat([
              head(line, [
                ...g.headers,
                ['Content-Length', String(b.length)],
                ['Content-Length', String(b.length + 3)],
              ]),
              b,
            ]),
            'close',
          );
        case 'bad-chunk':
          return bodiless
            ? status(withLength(0), 'keep')
            : broken(
                Buffer.concat([
                  head(line, [...g.headers, ['Transfer-Encoding', 'chunked']]),
                  Buffer.from(`zz${CRLF}`),
                  b,
                ]),
                'close',
              );
        case 'garbage':
          // Not an HTTP response at all (a leading letter keeps it from reading as one).
          return broken(Buffer.concat([Buffer.from('X'), Buffer.from(g.garbage)]), 'close');
        case 'nothing':
          return broken(Buffer.alloc(0), 'close');
        case 'reset':
          return broken(Buffer.alloc(0), 'reset');
        case 'stall-head':
          return broken(Buffer.alloc(0), 'stall', true);
        case 'stall-body':
          return broken(
            Buffer.concat([withLength(b.length + 10), b.subarray(0, b.length >> 1)]),
            'stall',
            true,
          );
        default: {
          // 'bare-lf': lines ended by LF alone: lenient parsers read them, strict ones refuse.
          const text = `${line}\n${[...g.headers, ['Content-Length', String(b.length)]].map(([n, v]) => `${n}: ${v}\n`).join('')}\n`;
          return {
            reply: reply(Buffer.concat([Buffer.from(text, 'latin1'), b]), 'close'),
            meaning: { kind: 'ambiguous' },
            stalls: false,
            label: `bare-lf ${g.status}`,
          };
        }
      }
    });
}
