/**
 * TLS credentials of a gRPC channel. For a host name these are grpc-js's own
 * (`credentials.createSsl()`: SNI and certificate check against the name). For a host given
 * as a bare IP address grpc-js would still pass the IP as the TLS `servername`, which
 * RFC 6066 forbids and Node reports with `DeprecationWarning ... (DEP0123)` on every process
 * that connects to one. There this module's credentials connect without a server name:
 * no SNI is sent, and Node checks the certificate against the IP (its IP SANs), exactly as
 * `tls.connect({ host: ip })` does. Certificate checks are the same in both cases: the
 * roots grpc-js trusts (`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` when set, else Node's store with
 * `NODE_EXTRA_CA_CERTS`), the ciphers it allows (`GRPC_SSL_CIPHER_SUITES`), an authorized
 * peer, a matching name or IP.
 *
 * Only the `pinecone-resilient/grpc` entry point loads this file (and so grpc-js).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext, connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';

/** What grpc-js asks of credentials for each new connection (not exported by grpc-js by name). */
type SecureConnector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

/**
 * The credentials of a TLS channel to `hostname` (as in the URL: an IPv6 address in
 * brackets). `channelOptions` matter when they override the TLS name
 * (`grpc.ssl_target_name_override`): then grpc-js's credentials, which honour it, are used.
 */
export function tlsCredentials(
  hostname: string,
  channelOptions?: grpc.ChannelOptions,
): grpc.ChannelCredentials {
  const ip = hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(ip) === 0 || channelOptions?.['grpc.ssl_target_name_override'])
    return grpc.credentials.createSsl();
  return new IpAddressTlsCredentials(ip);
}

/**
 * TLS to an IP address without a server name. The handshake is grpc-js's own
 * (`channel-credentials.ts`: ALPN `h2`, reject an unauthorized peer), less the `servername`.
 */
class IpAddressTlsCredentials extends grpc.ChannelCredentials {
  /** The context `credentials.createSsl()` makes: the same roots and ciphers. */
  readonly #context: SecureContext;

  constructor(private readonly ip: string) {
    super();
    const roots = process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
    this.#context = createSecureContext({
      ca: roots ? readFileSync(roots) : undefined,
      ciphers: process.env.GRPC_SSL_CIPHER_SUITES,
    });
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: grpc.ChannelCredentials): boolean {
    return other instanceof IpAddressTlsCredentials && other.ip === this.ip;
  }

  override _createSecureConnector(
    _target: unknown,
    _options: grpc.ChannelOptions,
    callCredentials?: grpc.CallCredentials,
  ): SecureConnector {
    const host = this.ip;
    const secureContext = this.#context;
    const credentials = callCredentials ?? grpc.credentials.createEmpty();
    return {
      connect: (socket) =>
        new Promise((resolve, reject) => {
          // `host` without `servername`: no SNI, and the certificate is checked against the IP.
          const tlsSocket = tlsConnect({ socket, host, secureContext, ALPNProtocols: ['h2'] }, () => {
            if (!tlsSocket.authorized) reject(tlsSocket.authorizationError);
            else resolve({ socket: tlsSocket, secure: true });
          });
          tlsSocket.on('error', reject);
        }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => credentials,
      destroy: () => undefined,
    };
  }
}
