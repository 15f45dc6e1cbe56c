/**
 * What the fuzz suite throws at the emulator's HTTP ports (fast-check arbitraries):
 * malformed and hostile requests for the index hosts and the controller (control plane
 * and `/admin`); gRPC calls are in `fuzz-grpc-cases.ts`. Each case is plain data
 * (fast-check prints it on a failure, and replays it from the seed); `fuzz-run.ts` sends
 * and judges them.
 */
import fc from 'fast-check';

/** The key the fuzzed emulator requires (data plane, control plane and admin). */
export const FUZZ_API_KEY = 'fuzz-key';

/** One HTTP request, as bytes go on the wire. */
export interface HttpCase {
  method: string;
  target: string;
  headers: [string, string][];
  /** Body bytes (latin1 text; `\u0080`-`\u00ff` are single raw bytes, so invalid UTF-8 fits). */
  body: string;
  /** How the body is framed: exact Content-Length, chunked, a length shorter or longer than the body. */
  framing: 'exact' | 'chunked' | 'less' | 'more' | 'none';
}

const WEIRD_SEGMENTS = [
  '',
  '%',
  '%ZZ',
  '%C0%AF',
  '%00',
  '%FF%FE',
  'a%E0%A4%A',
  '__proto__',
  'constructor',
  'toString',
  '..',
  '.',
  '%2e%2e',
  'x'.repeat(600),
  '%C3%A9',
  '%E2%82%AC',
];

const segment = fc.oneof(
  fc.constantFrom(...WEIRD_SEGMENTS),
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.string({ maxLength: 16 }).map(encodeURIComponent),
  fc.string({ maxLength: 8, unit: 'binary' }),
);

const queryValue = fc.oneof(
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom('%ZZ', '%', '%FF', '5', '-1', '0', '1e9', '1.5', 'abc', 'x'.repeat(600), '', '__proto__'),
);

const queryString = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.constantFrom(
            'ids',
            'namespace',
            'prefix',
            'limit',
            'paginationToken',
            '__proto__',
            'constructor',
            'x',
          ),
          queryValue,
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?=', '?ids', '?ids=a&ids=b&ids=%ZZ', '?%=%') },
);

const weirdTarget = fc.oneof(
  fc.constantFrom(
    '//',
    '///',
    '//x:99999/',
    '//x:99999/query',
    '*',
    'http://x/query',
    'http://[bad/',
    '/%',
    '/%ZZ',
  ),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
  fc.constantFrom(`/${'a'.repeat(9000)}`, '/query#frag', '/query?x=1#y', '/a b', '/\u00e9'),
);

const DATA_PATHS = [
  '/vectors/upsert',
  '/query',
  '/vectors/fetch',
  '/vectors/delete',
  '/vectors/update',
  '/describe_index_stats',
  '/vectors/list',
  '/vectors/fetch_by_metadata',
  '/namespaces',
];

/** Request targets of an index host: its routes (with query strings), namespaces, and garbage. */
export const dataTarget = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...DATA_PATHS), fc.constantFrom('', '/'), queryString)
      .map((p) => p.join('')),
  },
  { weight: 2, arbitrary: fc.tuple(segment, queryString).map(([s, q]) => `/namespaces/${s}${q}`) },
  { weight: 2, arbitrary: weirdTarget },
);

/** Request targets of the controller: `/indexes`, `/admin/...`, and garbage. */
export const controllerTarget = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/indexes',
      '/indexes/',
      '/admin',
      '/admin/health',
      '/admin/indexes',
      '/admin/faults',
    ),
  },
  { weight: 2, arbitrary: fc.tuple(fc.oneof(fc.constant('ctl'), segment)).map(([s]) => `/indexes/${s}`) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.constant('ctl'), segment),
        fc.constantFrom('faults', 'stats', 'stats/reset', 'nope', ''),
      )
      .map(([s, what]) => `/admin/indexes/${s}/${what}`),
  },
  { weight: 1, arbitrary: weirdTarget },
);

/** Numbers at the edges: beyond float32 and float64, negative, fractional, as text. */
const edgeNumber = fc.constantFrom(
  1e39,
  -1e39,
  1e308,
  3.4028234663852886e38,
  -0,
  0.5,
  -1,
  0,
  1,
  10_000,
  10_001,
  2 ** 53,
  '10',
  'NaN',
);

const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), edgeNumber);

const denseValues = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
  },
  { weight: 2, arbitrary: fc.array(number, { maxLength: 6 }) },
);

const metadata = fc.oneof(
  fc.dictionary(
    fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('toString', '__proto__', 'constructor', 'genre')),
    fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
    ),
    { maxKeys: 4 },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Filters: valid ones, ones naming Object.prototype members, bad operators, and deep nesting. */
export const filter: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.dictionary(
      fc.constantFrom('genre', 'year', 'toString', '__proto__', 'constructor', 'hasOwnProperty', '$regex'),
      fc.oneof(
        fc.string({ maxLength: 6 }),
        number,
        fc.boolean(),
        fc.record(
          {
            $eq: fc.oneof(fc.string({ maxLength: 4 }), number, fc.boolean()),
            $ne: fc.string({ maxLength: 4 }),
            $gt: number,
            $in: fc.array(fc.oneof(fc.string({ maxLength: 4 }), number), { maxLength: 4 }),
            $exists: fc.oneof(fc.boolean(), fc.constant(1)),
            $nope: fc.constant(1),
          },
          { requiredKeys: [] },
        ),
      ),
      { maxKeys: 3 },
    ),
    fc.record({ $and: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.record({ $or: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
})).filter;

const sparse = fc.record(
  {
    indices: fc.array(fc.oneof(fc.nat(10), fc.constantFrom(-1, 2 ** 32, 1.5, '1')), { maxLength: 4 }),
    values: fc.array(number, { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

const vector = fc.record(
  {
    id: fc.oneof(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.constantFrom('__proto__', '', 'x'.repeat(600)),
    ),
    values: denseValues,
    sparseValues: sparse,
    metadata,
  },
  { requiredKeys: ['id'] },
);

/** Values of the data plane's fields, right and wrong. */
export const dataField: Record<string, fc.Arbitrary<unknown>> = {
  vectors: fc.oneof(fc.array(vector, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
  namespace: fc.oneof(
    fc.constantFrom('', '__default__', 'ns1', '__proto__', 'caf\u00e9', 'a\u0000b', 'n'.repeat(513)),
    fc.string({ maxLength: 8 }),
    number,
  ),
  topK: fc.oneof(fc.integer({ min: 1, max: 20 }), number, fc.constant('10')),
  vector: denseValues,
  sparseVector: sparse,
  id: fc.oneof(fc.string({ maxLength: 8 }), number),
  filter,
  includeValues: fc.oneof(fc.boolean(), fc.constant('true')),
  includeMetadata: fc.boolean(),
  ids: fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), fc.string()),
  deleteAll: fc.oneof(fc.boolean(), fc.constant('yes')),
  values: denseValues,
  sparseValues: sparse,
  setMetadata: metadata,
  limit: fc.oneof(fc.integer({ min: -2, max: 20_000 }), fc.constant('5')),
  paginationToken: fc.oneof(fc.string({ maxLength: 12 }), fc.constant('eyJhZnRlciI6ImEifQ')),
  dryRun: fc.boolean(),
  name: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('x'.repeat(2000), '__proto__')),
  schema: fc.jsonValue({ maxDepth: 2 }),
  __proto__: fc.jsonValue({ maxDepth: 2 }),
  constructor: fc.jsonValue({ maxDepth: 1 }),
};

/** Values of the control plane's and admin's fields (create/configure index, fault configs). */
const controlField: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/),
    fc.string({ maxLength: 8 }),
    fc.constantFrom('ctl', '__proto__'),
  ),
  dimension: fc.oneof(fc.integer({ min: 1, max: 8 }), number),
  metric: fc.constantFrom('cosine', 'dotproduct', 'euclidean', 'hamming', 1),
  vector_type: fc.constantFrom('dense', 'sparse', 'x'),
  spec: fc.oneof(
    fc.constant({ serverless: { cloud: 'aws', region: 'us-east-1' } }),
    fc.jsonValue({ maxDepth: 3 }),
  ),
  deletion_protection: fc.constantFrom('enabled', 'disabled', 'maybe', true),
  tags: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 25 }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  schema: fc.oneof(
    fc.constant({ fields: { _values: { type: 'dense_vector', dimension: 2, metric: 'cosine' } } }),
    fc.jsonValue({ maxDepth: 4 }),
  ),
  deployment: fc.jsonValue({ maxDepth: 2 }),
  embed: fc.jsonValue({ maxDepth: 1 }),
  rateLimit: fc.oneof(
    fc.record({ rps: number, burst: number, retryAfterSeconds: number }, { requiredKeys: [] }),
    fc.constant(null),
  ),
  maxInFlight: fc.oneof(number, fc.constant(null)),
  errorRates: fc.oneof(
    fc.dictionary(fc.constantFrom('500', '502', '503', '504', '501', '__proto__'), number),
    fc.constant(null),
  ),
  latency: fc.oneof(
    fc.record({ fixedMs: number, jitterMs: number }, { requiredKeys: [] }),
    fc.constant(null),
  ),
  resetRate: number,
  truncateRate: number,
  malformedRate: number,
  operations: fc.oneof(
    fc.array(fc.constantFrom('upsert', 'query', 'nope'), { maxLength: 3 }),
    fc.constant(null),
  ),
  seed: number,
  __proto__: fc.jsonValue({ maxDepth: 2 }),
};

/** A JSON object text from fields (written by hand, so `__proto__` is a key like any other). */
export function objectOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const keys = Object.keys(fields);
  return fc
    .uniqueArray(fc.constantFrom(...keys), { maxLength: 6 })
    .chain((chosen) => fc.tuple(...chosen.map((k) => fields[k]!.map((v) => [k, v] as const))))
    .map(
      (entries) =>
        `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`,
    );
}

/** JSON nested `n` levels deep, as a field of an otherwise plausible body. */
const deep = fc
  .tuple(fc.integer({ min: 60, max: 5000 }), fc.constantFrom('filter', 'setMetadata', 'schema', 'latency'))
  .map(
    ([n, key]) => `{"${key}":${'{"$and":['.repeat(n)}{"a":1}${']}'.repeat(n)},"topK":1,"vector":[1,0,0,0]}`,
  );

/** Bytes that are not UTF-8, inside an otherwise good JSON string. */
const notUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 4 })
  .map((b) => `{"namespace":"${Buffer.from(b.map((x) => x | 0x80)).toString('latin1')}","vectors":[]}`);

function bodies(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: objectOf(fields) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: notUtf8 },
    { weight: 1, arbitrary: objectOf(fields).map((t) => t.slice(0, Math.max(1, t.length >> 1))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b).toString('latin1')) },
  );
}

/** Headers as a client sends them, every one of them possibly wrong. */
const anyHeaders = fc.record({
  apiKey: fc.constantFrom(FUZZ_API_KEY, FUZZ_API_KEY, 'wrong', undefined),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/vnd.api+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'garbage',
    undefined,
  ),
  contentEncoding: fc.constantFrom(undefined, undefined, 'gzip', 'identity', 'br'),
  host: fc.constantFrom('own', 'own', 'localhost', 'evil.example', 'missing', '[::1]'),
  origin: fc.constantFrom(undefined, undefined, 'https://evil.example', 'null', 'http://localhost:3000'),
  apiVersion: fc.constantFrom(undefined, '2025-10', '2026-07', 'garbage'),
});

/** Headers of a well-behaved client, so most cases reach the operations behind the gates. */
const goodHeaders = fc.record({
  apiKey: fc.constant<string | undefined>(FUZZ_API_KEY),
  contentType: fc.constant<string | undefined>('application/json'),
  contentEncoding: fc.constant<string | undefined>(undefined),
  host: fc.constant('own'),
  origin: fc.constant<string | undefined>(undefined),
  apiVersion: fc.constantFrom(undefined, '2025-10', '2026-07'),
});

const headerSet = fc.oneof({ weight: 3, arbitrary: goodHeaders }, { weight: 2, arbitrary: anyHeaders });

const method = fc.constantFrom(
  ...Array(6).fill('POST'),
  'GET',
  'GET',
  'GET',
  'DELETE',
  'PUT',
  'PATCH',
  'OPTIONS',
  'HEAD',
);

function httpCase(
  target: fc.Arbitrary<string>,
  fields: Record<string, fc.Arbitrary<unknown>>,
  ownHost: string,
) {
  return fc
    .record({
      method,
      target,
      headers: headerSet,
      body: bodies(fields),
      framing: fc.constantFrom(...Array(10).fill('exact'), 'chunked', 'less', 'more', 'none'),
    })
    .map(({ method, target, headers, body, framing }): HttpCase => {
      const list: [string, string][] = [];
      const host =
        headers.host === 'own'
          ? ownHost
          : headers.host === 'localhost'
            ? `localhost:${ownHost.split(':').pop()}`
            : headers.host;
      if (headers.host !== 'missing') list.push(['host', host]);
      if (headers.apiKey !== undefined) list.push(['api-key', headers.apiKey]);
      if (headers.contentType !== undefined) list.push(['content-type', headers.contentType]);
      if (headers.contentEncoding !== undefined) list.push(['content-encoding', headers.contentEncoding]);
      if (headers.origin !== undefined) list.push(['origin', headers.origin]);
      if (headers.apiVersion !== undefined) list.push(['x-pinecone-api-version', headers.apiVersion]);
      return {
        method,
        target,
        headers: list,
        body,
        framing: body === '' && framing !== 'more' ? 'none' : framing,
      };
    });
}

/** Cases for an index host (`ownHost` is its `127.0.0.1:PORT`). */
export function dataPlaneCase(ownHost: string): fc.Arbitrary<HttpCase> {
  return httpCase(dataTarget, dataField, ownHost);
}

/** Cases for the controller (`ownHost` is its `127.0.0.1:PORT`). */
export function controllerCase(ownHost: string): fc.Arbitrary<HttpCase> {
  return httpCase(controllerTarget, controlField, ownHost);
}

/** The request bytes of an HTTP case. */
export function httpBytes(c: HttpCase): { head: string; body: Buffer } {
  const body = Buffer.from(c.body, 'latin1');
  const headers = [...c.headers];
  let payload = body;
  switch (c.framing) {
    case 'exact':
      headers.push(['content-length', String(body.length)]);
      break;
    case 'less':
      headers.push(['content-length', String(body.length >> 1)]);
      break;
    case 'more':
      headers.push(['content-length', String(body.length + 10)]);
      break;
    case 'chunked':
      headers.push(['transfer-encoding', 'chunked']);
      payload = Buffer.concat([
        Buffer.from(`${body.length.toString(16)}\r\n`),
        body,
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
      break;
    default:
      payload = Buffer.alloc(0);
  }
  const head = `${c.method} ${c.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return { head, body: payload };
}
