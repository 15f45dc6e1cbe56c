/**
 * Generated answers to a gRPC call for the gRPC response fuzzer: status codes of every
 * kind in trailers (or a trailers-only answer), `grpc-retry-pushback-ms` values good and
 * hostile, metadata echoing the API key, messages that decode, do not decode, come in
 * broken frames or not at all, wrong HTTP statuses and content types, missing trailers,
 * stream resets, dropped connections and stalls.
 *
 * Each answer says what it means for the judge:
 * - `ok`: a well-framed OK answer (`wellFormed`: its message is the call's answer);
 * - `status`: a well-framed error status `code` with `pushback` as sent, if any;
 * - `stall`: nothing the client can finish; only its deadline ends the call;
 * - `ambiguous`: how grpc-js reads it is its business (judged: a typed error or a valid result).
 */
import fc from 'fast-check';
import type { RawGrpcReply } from '../helpers/raw-grpc-response-server.js';
import { FUZZ_KEY } from './rest-replies.js';

/** What an answer means to a conforming client. */
export type GrpcMeaning =
  | { kind: 'ok'; wellFormed: boolean }
  | { kind: 'status'; code: number; pushback: string | undefined }
  | { kind: 'stall' }
  | { kind: 'ambiguous' };

/** One generated answer. */
export interface GeneratedGrpcReply {
  reply: RawGrpcReply;
  meaning: GrpcMeaning;
  /**
   * Only the client's deadline ends the call (a short one is used): a stall, and two
   * messages for a unary call, which grpc-js 1.14 stops reading after the first, so it
   * never sees the status behind them.
   */
  stalls?: boolean;
  label: string;
}

const GRPC = { ':status': '200', 'content-type': 'application/grpc' };

/** A length-prefixed message (`flag` 1: marked compressed). */
function frame(message: Buffer, flag = 0, length = message.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([head, message]);
}

const pushback = fc.constantFrom(
  '0',
  '100',
  '1500',
  '-1',
  '-100',
  'abc',
  '1e309',
  '99999999999',
  ' 5',
  '',
  '1.5',
);

const visible = fc.string({ unit: 'grapheme-ascii', maxLength: 24 });

/** Extra metadata: request ids, the key echoed, random `x-` entries. */
const metadata = fc
  .record({
    requestId: fc.option(visible, { nil: undefined }),
    echoKey: fc.boolean(),
    extra: fc.array(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,12}$/), visible), { maxLength: 2 }),
  })
  .map((m) => {
    const out: Record<string, string> = {};
    if (m.requestId !== undefined) out['x-pinecone-request-id'] = m.requestId;
    if (m.echoKey) out['x-echo'] = FUZZ_KEY;
    for (const [k, v] of m.extra) out[k] = v;
    return out;
  });

/** A status message, percent-encoded as gRPC sends it (now and then mentioning the key). */
const statusMessage = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.constant(`invalid api key ${FUZZ_KEY}`),
    fc.constant('%%garbage%zz'),
  )
  .map((m) => (m.startsWith('%%') ? m : encodeURIComponent(m)));

type Odd =
  | 'bad-status'
  | 'http-status'
  | 'content-type'
  | 'no-trailers'
  | 'truncated-frame'
  | 'compressed'
  | 'two-messages'
  | 'huge-prefix'
  | 'rst'
  | 'drop'
  | 'no-headers-rst';

/** An answer for a call whose well-formed message is `wellFormed` (weights per thousand). */
export function grpcReply(wellFormed: fc.Arbitrary<Buffer>): fc.Arbitrary<GeneratedGrpcReply> {
  const okBody = fc.oneof(
    { weight: 6, arbitrary: wellFormed.map((b) => ({ bytes: b, wellFormed: true, label: 'answer' })) },
    {
      weight: 1,
      arbitrary: fc.constant({ bytes: Buffer.alloc(0), wellFormed: false, label: 'empty message' }),
    },
    {
      weight: 2,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 48 })
        .map((b) => ({ bytes: Buffer.from(b), wellFormed: false, label: 'random bytes' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(wellFormed, fc.uint8Array({ minLength: 1, maxLength: 8 }))
        .map(([b, junk]) => ({ bytes: Buffer.concat([b, junk]), wellFormed: false, label: 'answer + junk' })),
    },
    {
      weight: 1,
      // Half the answer; an empty answer's "half" is a field tag whose value never comes.
      arbitrary: wellFormed.map((b) => ({
        bytes: b.length > 1 ? b.subarray(0, b.length >> 1) : Buffer.from([0x0a]),
        wellFormed: false,
        label: 'half an answer',
      })),
    },
  );
  const ok = fc.record({ body: okBody, headers: metadata, trailers: metadata }).map(
    (g): GeneratedGrpcReply => ({
      reply: {
        headers: { ...GRPC, ...g.headers },
        data: frame(g.body.bytes),
        trailers: { 'grpc-status': '0', ...g.trailers },
      },
      meaning: { kind: 'ok', wellFormed: g.body.wellFormed },
      label: `OK (${g.body.label})`,
    }),
  );
  const status = fc
    .record({
      code: fc.integer({ min: 1, max: 16 }),
      message: statusMessage,
      pushback: fc.option(pushback, { freq: 3, nil: undefined }),
      meta: metadata,
      afterData: fc.boolean(),
      body: wellFormed,
    })
    .map((g): GeneratedGrpcReply => {
      const trailers: Record<string, string> = {
        'grpc-status': String(g.code),
        'grpc-message': g.message,
        ...g.meta,
      };
      if (g.pushback !== undefined) trailers['grpc-retry-pushback-ms'] = g.pushback;
      const reply: RawGrpcReply = g.afterData
        ? { headers: GRPC, data: frame(g.body), trailers }
        : { headers: { ...GRPC, ...trailers }, headersOnly: true };
      return {
        reply,
        meaning: { kind: 'status', code: g.code, pushback: g.pushback },
        label: `status ${g.code}${g.afterData ? ' after a message' : ''}${g.pushback === undefined ? '' : ` pushback ${JSON.stringify(g.pushback)}`}`,
      };
    });
  const odd = fc
    .record({
      kind: fc.constantFrom<Odd>(
        'bad-status',
        'http-status',
        'content-type',
        'no-trailers',
        'truncated-frame',
        'compressed',
        'two-messages',
        'huge-prefix',
        'rst',
        'drop',
        'no-headers-rst',
      ),
      body: wellFormed,
      grpcStatus: fc.constantFrom('abc', '99', '-1', '', '0x5', '17', '1.0', ' 3'),
      httpStatus: fc.constantFrom('400', '401', '404', '429', '500', '502', '503', '504', '302'),
      contentType: fc.constantFrom('text/html', 'application/json', 'application/grpc+proto', ''),
      rstCode: fc.integer({ min: 0, max: 13 }),
    })
    .map((g): GeneratedGrpcReply => {
      const ambiguous = (reply: RawGrpcReply): GeneratedGrpcReply => ({
        reply,
        meaning: { kind: 'ambiguous' },
        label: g.kind,
      });
      const stallsAmbiguous = (reply: RawGrpcReply): GeneratedGrpcReply => ({
        ...ambiguous(reply),
        stalls: true,
      });
      const okTrailers = { 'grpc-status': '0' };
      switch (g.kind) {
        case 'bad-status':
          return ambiguous({ headers: { ...GRPC, 'grpc-status': g.grpcStatus }, headersOnly: true });
        case 'http-status':
          return ambiguous({
            headers: { ':status': g.httpStatus, 'content-type': 'text/plain' },
            headersOnly: true,
          });
        case 'content-type':
          return ambiguous({
            headers: { ':status': '200', 'content-type': g.contentType },
            data: frame(g.body),
            trailers: okTrailers,
          });
        case 'no-trailers':
          return ambiguous({ headers: GRPC, data: frame(g.body) });
        case 'truncated-frame':
          return ambiguous({
            headers: GRPC,
            data: frame(g.body, 0, g.body.length + 7),
            trailers: okTrailers,
          });
        case 'compressed':
          return ambiguous({ headers: GRPC, data: frame(g.body, 1), trailers: okTrailers });
        case 'two-messages':
          return stallsAmbiguous({
            headers: GRPC,
            data: Buffer.concat([frame(g.body), frame(g.body)]),
            trailers: okTrailers,
          });
        case 'huge-prefix':
          return ambiguous({ headers: GRPC, data: frame(g.body, 0, 0x7fffffff), trailers: okTrailers });
        case 'rst':
          return ambiguous({ headers: GRPC, data: frame(g.body), rst: g.rstCode });
        case 'drop':
          return ambiguous({ headers: GRPC, dropSession: true });
        default:
          return ambiguous({ rst: g.rstCode });
      }
    });
  const stall = fc.constantFrom<GeneratedGrpcReply>(
    { reply: { stall: true }, meaning: { kind: 'stall' }, stalls: true, label: 'no answer' },
    {
      reply: { headers: GRPC, stall: true },
      meaning: { kind: 'stall' },
      stalls: true,
      label: 'headers, then nothing',
    },
  );
  return fc.oneof(
    { weight: 450, arbitrary: ok },
    { weight: 350, arbitrary: status },
    { weight: 195, arbitrary: odd },
    { weight: 5, arbitrary: stall },
  );
}
