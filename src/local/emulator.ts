/**
 * The emulator's state, independent of any transport: the indexes, each with its store,
 * fault injector and stats. Transports (the REST data plane now, gRPC later) register as
 * {@link IndexTransport}s and are told when an index appears or goes, so each can give
 * the index its own listening address.
 */
import type { Socket } from 'node:net';
import type { Metric } from '../data/types.js';
import { type Clock, systemClock } from '../resilience/clock.js';
import { EMULATOR_EMBEDDING_MODEL } from './embedding.js';
import { alreadyExists, forbidden, invalidArgument, notFound } from './errors.js';
import { type FaultConfig, FaultInjector, validateFaultConfig } from './faults.js';
import { type IndexShape, IndexStore, type VectorType } from './index-store.js';
import { checkReadCapacity, ON_DEMAND, type ReadCapacity } from './read-capacity.js';
import { type IndexStatsSnapshot, StatsRecorder } from './stats.js';

/** How to create an index (what `startLocalServer({ indexes })` and the control plane pass). */
export interface LocalIndexDefinition {
  name: string;
  /** Required for dense indexes (1..20000); absent for sparse ones. */
  dimension?: number;
  /** Default `cosine`; sparse indexes must be `dotproduct`. */
  metric?: Metric;
  /** Default `dense`. */
  vectorType?: VectorType;
  /** Faults of this index (default: the server's default faults). */
  faults?: FaultConfig;
  /** Default `disabled`. */
  deletionProtection?: 'enabled' | 'disabled';
  tags?: Record<string, string> | null;
  /** Reported in the index model; default `aws` / `us-east-1`. */
  cloud?: string;
  region?: string;
  /** Extra (metadata) schema fields of a 2026-07 create request, echoed back. */
  schemaFields?: Record<string, unknown>;
  /**
   * Integrated embedding: `upsertRecords` embeds the record field `fieldMap.text` (dense
   * indexes only) with the emulator's deterministic stand-in, not a real model (see
   * `local/embedding.ts`). `model` is reported back as given.
   */
  embed?: { model?: string; fieldMap: { text: string } };
  /** Read capacity reported back (default OnDemand); every index serves reads alike. */
  readCapacity?: ReadCapacity;
  /** `spec.serverless.schema` of a classic create (which metadata is filterable), echoed back; filters are not limited by it. */
  metadataSchema?: { fields: Record<string, { filterable?: boolean }> };
}

/** One emulated index. */
export class EmulatedIndex {
  readonly store: IndexStore;
  readonly faults: FaultInjector;
  readonly stats: StatsRecorder;
  deletionProtection: 'enabled' | 'disabled';
  tags: Record<string, string> | null;
  readonly cloud: string;
  readonly region: string;
  readonly schemaFields: Record<string, unknown>;
  readonly metadataSchema: LocalIndexDefinition['metadataSchema'];
  /** What a create or configure asked for; reported back, Ready at once. */
  readCapacity: ReadCapacity;
  /** Base URL of the REST data plane (`http://127.0.0.1:PORT`), set by the REST transport. */
  restHost: string | undefined;
  /** Address of the gRPC data plane, set by a gRPC transport when there is one. */
  grpcHost: string | undefined;
  /**
   * Set by a gRPC transport: takes an HTTP/2 connection that arrived on the REST port, so
   * `restHost` serves gRPC too, as a Pinecone index host does.
   */
  acceptHttp2: ((socket: Socket) => void) | undefined;

  constructor(
    readonly name: string,
    readonly shape: IndexShape,
    init: { faults: FaultConfig; defaultSeed: number; clock: Clock; definition: LocalIndexDefinition },
  ) {
    this.store = new IndexStore(shape);
    this.faults = new FaultInjector(init.faults, { name, defaultSeed: init.defaultSeed, clock: init.clock });
    this.stats = new StatsRecorder(init.clock);
    this.deletionProtection = init.definition.deletionProtection ?? 'disabled';
    this.tags = init.definition.tags ?? null;
    this.cloud = init.definition.cloud ?? 'aws';
    this.region = init.definition.region ?? 'us-east-1';
    this.schemaFields = init.definition.schemaFields ?? {};
    this.metadataSchema = init.definition.metadataSchema;
    this.readCapacity = checkReadCapacity(init.definition.readCapacity ?? ON_DEMAND);
  }

  /** The stats of this index now. */
  snapshot(): IndexStatsSnapshot {
    // No prototype: a namespace named `__proto__` is counted like any other.
    const namespaces: Record<string, number> = Object.create(null);
    for (const [key, ns] of this.store.entries()) namespaces[key === '' ? '__default__' : key] = ns.size;
    return this.stats.snapshot({
      index: this.name,
      seed: this.faults.seed,
      inFlight: this.faults.inFlight,
      namespaces,
    });
  }
}

/** A transport that serves the data plane of each index (REST, gRPC). */
export interface IndexTransport {
  /** Start serving an index (sets its host). */
  attach(index: EmulatedIndex): Promise<void>;
  /** Stop serving an index. */
  detach(index: EmulatedIndex): Promise<void>;
  /** Stop serving everything. */
  close(): Promise<void>;
}

/** Options of an {@link Emulator}. */
export interface EmulatorOptions {
  /** Faults of indexes that do not set their own. */
  faults?: FaultConfig;
  /** Seed from which each index's fault seed is derived. */
  seed?: number;
  /** Time source for token buckets and stats (default: real time). */
  clock?: Clock;
}

const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$/;

/** A 32-bit FNV-1a hash: derives a per-index seed from the server seed and the name. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Check a definition and derive the index's shape. Throws 400 errors in Pinecone's words. */
export function shapeOf(def: LocalIndexDefinition): IndexShape {
  if (typeof def.name !== 'string' || !NAME_PATTERN.test(def.name)) {
    throw invalidArgument(
      `Name must be 1-45 characters long, start and end with an alphanumeric character, and consist only of lower case alphanumeric characters or '-' (got ${JSON.stringify(def.name)})`,
    );
  }
  const vectorType = def.vectorType ?? 'dense';
  if (vectorType !== 'dense' && vectorType !== 'sparse') {
    throw invalidArgument(`Invalid vector_type ${JSON.stringify(vectorType)}: expected dense or sparse`);
  }
  const metric = def.metric ?? (vectorType === 'sparse' ? 'dotproduct' : 'cosine');
  if (!['cosine', 'euclidean', 'dotproduct'].includes(metric)) {
    throw invalidArgument(
      `Invalid metric ${JSON.stringify(metric)}: expected cosine, euclidean or dotproduct`,
    );
  }
  if (vectorType === 'sparse') {
    if (metric !== 'dotproduct') throw invalidArgument('Sparse indexes must use the dotproduct metric');
    if (def.embed !== undefined) throw invalidArgument('The emulator embeds records into dense indexes only');
    if (def.dimension !== undefined && def.dimension !== null) {
      throw invalidArgument('Sparse indexes cannot have a dimension');
    }
    return { dimension: 0, metric, vectorType };
  }
  const d = def.dimension;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 20_000) {
    throw invalidArgument(
      `Dimension must be an integer between 1 and 20000 for a dense index (got ${String(d)})`,
    );
  }
  const shape: IndexShape = { dimension: d, metric, vectorType };
  if (def.embed !== undefined) {
    const field = def.embed?.fieldMap?.text;
    if (typeof field !== 'string' || field === '') {
      throw invalidArgument('embed.fieldMap.text must name the record field to embed');
    }
    shape.embed = { model: def.embed.model ?? EMULATOR_EMBEDDING_MODEL, fieldMap: { text: field } };
  }
  return shape;
}

/** The emulator's indexes and the transports serving them. */
export class Emulator {
  private readonly indexes = new Map<string, EmulatedIndex>();
  /** Names being created or deleted right now (their transports are starting or stopping). */
  private readonly busy = new Set<string>();
  private readonly transports: IndexTransport[] = [];
  private defaultFaults: FaultConfig;
  readonly seed: number;
  readonly clock: Clock;

  constructor(options: EmulatorOptions = {}) {
    this.defaultFaults = validateFaultConfig(options.faults);
    this.seed = (options.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
    this.clock = options.clock ?? systemClock;
  }

  /** Add a transport; it is attached to the indexes that exist already. */
  async addTransport(transport: IndexTransport): Promise<void> {
    this.transports.push(transport);
    for (const index of this.indexes.values()) await transport.attach(index);
  }

  /** Faults given to indexes created without their own. */
  get faults(): FaultConfig {
    return structuredClone(this.defaultFaults);
  }

  /** Change the default faults; `applyToExisting` also reconfigures every index now. */
  setDefaultFaults(faults: FaultConfig, applyToExisting = true): void {
    this.defaultFaults = validateFaultConfig(faults);
    if (applyToExisting)
      for (const index of this.indexes.values()) index.faults.configure(this.defaultFaults);
  }

  /** An index by name, or undefined. */
  get(name: string): EmulatedIndex | undefined {
    return this.indexes.get(name);
  }

  /** An index by name; a 404 `EmulatorError` when there is none. */
  require(name: string): EmulatedIndex {
    const index = this.indexes.get(name);
    if (!index) throw notFound(`Resource ${name} not found`);
    return index;
  }

  /** All indexes, in creation order. */
  list(): EmulatedIndex[] {
    return [...this.indexes.values()];
  }

  /** Create an index (Ready at once) and attach it to every transport. */
  async createIndex(def: LocalIndexDefinition): Promise<EmulatedIndex> {
    const shape = shapeOf(def);
    if (this.indexes.has(def.name) || this.busy.has(def.name))
      throw alreadyExists(`Resource ${def.name} already exists`);
    const faults = def.faults !== undefined ? validateFaultConfig(def.faults) : this.defaultFaults;
    const index = new EmulatedIndex(def.name, shape, {
      faults,
      defaultSeed: (this.seed ^ hashName(def.name)) >>> 0,
      clock: this.clock,
      definition: def,
    });
    this.busy.add(def.name);
    try {
      for (const t of this.transports) await t.attach(index);
    } catch (err) {
      for (const t of this.transports) await t.detach(index).catch(() => undefined);
      throw err;
    } finally {
      this.busy.delete(def.name);
    }
    this.indexes.set(def.name, index);
    return index;
  }

  /** Delete an index; 403 when deletion protection is on, 404 when it does not exist. */
  async deleteIndex(name: string): Promise<void> {
    const index = this.require(name);
    if (index.deletionProtection === 'enabled') {
      throw forbidden(
        'Deletion protection is enabled for this index. Disable deletion protection before retrying.',
      );
    }
    this.indexes.delete(name);
    this.busy.add(name);
    try {
      for (const t of this.transports) await t.detach(index);
    } finally {
      this.busy.delete(name);
    }
  }

  /** Stop every transport. */
  async close(): Promise<void> {
    for (const t of this.transports.splice(0)) await t.close();
  }
}
