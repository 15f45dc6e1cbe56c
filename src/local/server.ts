/**
 * `startLocalServer`: the emulator as real servers on loopback. The controller host
 * serves the control plane and `/admin`; every index gets its own REST host (its own
 * port), created with the index and closed with it.
 */
import type { Server } from 'node:http';
import type { Clock } from '../resilience/clock.js';
import { HostPolicy } from './access.js';
import { controlPlaneErrorBody, createControllerHandler } from './control-plane.js';
import { RestDataPlane } from './data-plane.js';
import { type EmulatedIndex, Emulator, type LocalIndexDefinition } from './emulator.js';
import type { FaultConfig } from './faults.js';
import { GrpcDataPlane } from './grpc-server.js';
import { baseUrl, closeServer, createEmulatorServer, listen } from './http.js';
import { resolveLimits } from './http-limits.js';
import type { IndexStatsSnapshot } from './stats.js';

/** Options of {@link startLocalServer}. */
export interface LocalServerOptions {
  /**
   * Controller port; 0 (the default) = any free port. With a fixed port P, indexes take
   * the next free ports P+1, P+2, ...; with 0, any free ports.
   */
  port?: number;
  /** Address to bind and to put in the hosts (default `127.0.0.1`). */
  host?: string;
  /** Indexes created at start, Ready at once. */
  indexes?: LocalIndexDefinition[];
  /** Default faults of every index (those created later too), unless an index sets its own. */
  faults?: FaultConfig;
  /**
   * When set, requests must carry this `Api-Key` (`/admin` too, unless `adminKey` is set);
   * otherwise any key (or none) is accepted.
   */
  apiKey?: string;
  /** When set, `/admin` requests must carry this `Api-Key` (instead of `apiKey`). */
  adminKey?: string;
  /**
   * Host names (besides `localhost`, IP addresses and `host`) a request's `Host` or
   * `Origin` may name, e.g. an `/etc/hosts` alias of 127.0.0.1. See docs/emulator.md,
   * "Security and limits".
   */
  allowedHosts?: string[];
  /** Seed of the fault sequences (per index: derived from this and the name). Default: random. */
  seed?: number;
  /**
   * Largest raw request body read at all, bytes (default 16 MiB; larger gets 413). Also
   * the largest gRPC message (default there 4 MiB).
   */
  maxBodyBytes?: number;
  /** A request's headers must arrive within this time (default 20000 ms), else 408. */
  headersTimeoutMs?: number;
  /** A whole request (a gRPC call's message) must arrive within this time (default 60000 ms), else 408 / DEADLINE_EXCEEDED. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections and HTTP/2 sessions are closed after this time (default 65000 ms). */
  idleTimeoutMs?: number;
  /** Connections open at once per port (default 1000); more are closed as they arrive. */
  maxConnections?: number;
  /** Time source for token buckets and stats (tests); default real time. */
  clock?: Clock;
}

/** A running emulator. */
export interface LocalServer {
  /** Control-plane base URL, `http://127.0.0.1:PORT`. */
  readonly controllerHost: string;
  /** The seed the fault sequences derive from (pass it back as `seed` to replay a run). */
  readonly seed: number;
  /** The emulator's state, for transports added later (gRPC). */
  readonly emulator: Emulator;
  /** REST data-plane base URL of an index, `http://127.0.0.1:PORT2`. Throws for an unknown index. */
  indexHost(name: string): string;
  /** gRPC address of an index, `http://127.0.0.1:PORT` (plaintext; its own port). Throws for an unknown index. */
  grpcHost(name: string): string;
  /** Names of the indexes, in creation order. */
  indexNames(): string[];
  /** Create an index (Ready at once); resolves to its REST host. */
  createIndex(definition: LocalIndexDefinition): Promise<string>;
  /** Delete an index (fails when deletion protection is enabled). */
  deleteIndex(name: string): Promise<void>;
  /** Replace an index's faults (`{}` clears them); restarts its seeded fault sequence. */
  setFaults(name: string, faults: FaultConfig): Promise<void>;
  /** An index's faults now. */
  getFaults(name: string): FaultConfig;
  /** Set the default faults and apply them to every index. */
  setDefaultFaults(faults: FaultConfig): Promise<void>;
  /** An index's stats now. */
  stats(name: string): IndexStatsSnapshot;
  /** Restart an index's stats (counts and timeline). */
  resetStats(name: string): void;
  /** Stop every server and drop all connections. */
  close(): Promise<void>;
}

/** Start the emulator. Resolves once every server listens. */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const limits = resolveLimits({
    headersTimeoutMs: options.headersTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    maxConnections: options.maxConnections,
  });
  const hosts = new HostPolicy(host, options.allowedHosts);
  const emulator = new Emulator({ faults: options.faults, seed: options.seed, clock: options.clock });
  const controller: Server = createEmulatorServer(
    createControllerHandler(emulator, {
      apiKey: options.apiKey,
      adminKey: options.adminKey,
      maxBodyBytes: options.maxBodyBytes,
    }),
    { errorBody: controlPlaneErrorBody, limits, hosts },
  );
  const controllerPort = await listen(controller, host, port);
  const rest = new RestDataPlane({
    host,
    portStart: port === 0 ? 0 : controllerPort + 1,
    apiKey: options.apiKey,
    maxBodyBytes: options.maxBodyBytes,
    limits,
    hosts,
  });
  rest.reservedPorts.add(controllerPort);
  // Every index is served over gRPC too (plaintext, its own port), over the same store.
  // With a fixed port P the gRPC ports start at P+1001, leaving P+1, P+2, ... to REST.
  const grpc = new GrpcDataPlane({
    host,
    portStart: port === 0 ? 0 : controllerPort + 1001,
    apiKey: options.apiKey,
    maxMessageBytes: options.maxBodyBytes,
    limits,
  });
  grpc.reservedPorts.add(controllerPort);
  let closed = false;
  try {
    await emulator.addTransport(rest);
    await emulator.addTransport(grpc);
    for (const def of options.indexes ?? []) await emulator.createIndex(def);
  } catch (err) {
    await emulator.close();
    await closeServer(controller);
    throw err;
  }

  const index = (name: string): EmulatedIndex => {
    const found = emulator.get(name);
    if (!found)
      throw new Error(
        `Unknown index "${name}" (indexes: ${
          emulator
            .list()
            .map((i) => i.name)
            .join(', ') || 'none'
        })`,
      );
    return found;
  };

  return {
    controllerHost: baseUrl(host, controllerPort),
    seed: emulator.seed,
    emulator,
    indexHost: (name) => index(name).restHost!,
    grpcHost(name) {
      const address = index(name).grpcHost;
      if (address === undefined)
        throw new Error('gRPC not enabled: this emulator serves the REST data plane only');
      return address;
    },
    indexNames: () => emulator.list().map((i) => i.name),
    async createIndex(definition) {
      return (await emulator.createIndex(definition)).restHost!;
    },
    deleteIndex: (name) => emulator.deleteIndex(name),
    async setFaults(name, faults) {
      index(name).faults.configure(faults);
    },
    getFaults: (name) => index(name).faults.config,
    async setDefaultFaults(faults) {
      emulator.setDefaultFaults(faults, true);
    },
    stats: (name) => index(name).snapshot(),
    resetStats: (name) => index(name).stats.reset(),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([emulator.close(), closeServer(controller)]);
    },
  };
}
