/**
 * Reading the request of a unary gRPC call: one length-prefixed message, uncompressed,
 * within the request timeout and the size limit (refused from its length prefix, the rest
 * discarded unread); a client that goes away mid-message is a client abort.
 */
import type http2 from 'node:http2';
import { ClientAbortError, EmulatorError, GrpcCode, requestTimeout } from './errors.js';

/**
 * Read the one length-prefixed message of a unary call, within `timeoutMs` of the call's
 * start (else DEADLINE_EXCEEDED). A message past `maxBytes` is refused as soon as its
 * length prefix (or the running count) says so, and the rest discarded unread.
 */
export function readMessage(
  stream: http2.ServerHttp2Stream,
  maxBytes: number,
  timeoutMs: number,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: Error | undefined, message?: Buffer) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('aborted', onAbort);
      stream.off('close', onAbort);
      if (err) {
        stream.resume(); // discard whatever still arrives
        reject(err);
      } else resolve(message!);
    };
    const timer = setTimeout(
      () => stop(requestTimeout(`The request message did not arrive in full within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const tooLarge = (n: number) =>
      new EmulatorError(`Received message larger than max (${n} vs. ${maxBytes})`, {
        httpStatus: 413,
        grpcCode: GrpcCode.RESOURCE_EXHAUSTED,
      });
    const onData = (chunk: Buffer) => {
      if (size < 5 && size + chunk.length >= 5) {
        const prefix = chunks.length === 0 ? chunk : Buffer.concat([...chunks, chunk]);
        const declared = prefix.readUInt32BE(1);
        if (declared > maxBytes) return stop(tooLarge(declared));
      }
      size += chunk.length;
      if (size > maxBytes + 5) return stop(tooLarge(size - 5));
      chunks.push(chunk);
    };
    const onEnd = () => {
      const data = Buffer.concat(chunks, size);
      if (data.length < 5) return stop(invalid('The call carried no request message'));
      if (data[0] !== 0) {
        return stop(
          new EmulatorError('Compressed messages are not supported', {
            httpStatus: 501,
            grpcCode: GrpcCode.UNIMPLEMENTED,
          }),
        );
      }
      const length = data.readUInt32BE(1);
      if (data.length !== 5 + length) return stop(invalid('A unary call carries exactly one whole message'));
      stop(undefined, data.subarray(5));
    };
    const onAbort = () => stop(new ClientAbortError('The client cancelled the call'));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('aborted', onAbort);
    stream.once('close', onAbort);
  });
}

function invalid(message: string): EmulatorError {
  return new EmulatorError(message, { httpStatus: 400, grpcCode: GrpcCode.INVALID_ARGUMENT });
}
