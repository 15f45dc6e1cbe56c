/**
 * The data of one index: its shape (dimension, metric, vector type) and its namespaces.
 * The default namespace has three spellings on the wire (absent, `""`, `"__default__"`);
 * they all map to one canonical key here.
 */
import { DEFAULT_NAMESPACE, type Metric } from '../data/types.js';
import { NamespaceStore } from './store.js';

/** Dense or sparse index. */
export type VectorType = 'dense' | 'sparse';

/** Integrated embedding: the record field an index embeds (with the emulator's stand-in model). */
export interface IndexEmbed {
  model: string;
  fieldMap: { text: string };
}

/** The shape of an index. `dimension` is 0 for a sparse index. */
export interface IndexShape {
  dimension: number;
  metric: Metric;
  vectorType: VectorType;
  /** Set for an index with integrated embedding (`upsertRecords` / `searchRecords` by text). */
  embed?: IndexEmbed | undefined;
}

/** The canonical key of the default namespace. */
export const DEFAULT_NAMESPACE_KEY = '';

/** Map every spelling of the default namespace to one key; other names are kept as they are. */
export function canonicalNamespace(namespace: string | undefined | null): string {
  if (namespace === undefined || namespace === null || namespace === DEFAULT_NAMESPACE)
    return DEFAULT_NAMESPACE_KEY;
  return namespace;
}

/**
 * How to name a namespace in a response: API version `2026-07` and later call the default
 * namespace `__default__`, earlier versions `""`.
 */
export function displayNamespace(key: string, apiVersion: string | undefined): string {
  if (key !== DEFAULT_NAMESPACE_KEY) return key;
  return apiVersion !== undefined && apiVersion >= '2026-07' ? DEFAULT_NAMESPACE : '';
}

/** Namespaces of one index. */
export class IndexStore {
  private readonly spaces = new Map<string, NamespaceStore>();
  /** Namespaces created explicitly (they stay listed while empty). */
  private readonly explicit = new Set<string>();

  constructor(readonly shape: IndexShape) {}

  /** A namespace for reading, or undefined when it does not exist. */
  namespace(key: string): NamespaceStore | undefined {
    return this.spaces.get(key);
  }

  /** A namespace for writing, created on first use (as Pinecone does on upsert). */
  namespaceForWrite(key: string): NamespaceStore {
    let ns = this.spaces.get(key);
    if (!ns) {
      ns = new NamespaceStore(this.shape.vectorType === 'sparse' ? 0 : this.shape.dimension);
      this.spaces.set(key, ns);
    }
    return ns;
  }

  /** Create an empty namespace explicitly; false when it already exists. */
  createNamespace(key: string): boolean {
    if (this.spaces.has(key)) return false;
    this.namespaceForWrite(key);
    this.explicit.add(key);
    return true;
  }

  /** Drop a namespace and its records; false when it did not exist. */
  deleteNamespace(key: string): boolean {
    this.explicit.delete(key);
    return this.spaces.delete(key);
  }

  /**
   * Forget a namespace that an operation left empty, unless it was created explicitly:
   * Pinecone's serverless indexes stop listing a namespace once its last record is gone.
   */
  dropIfEmpty(key: string): void {
    const ns = this.spaces.get(key);
    if (ns && ns.size === 0 && !this.explicit.has(key)) this.spaces.delete(key);
  }

  /** Namespace keys and stores, in creation order. */
  entries(): IterableIterator<[string, NamespaceStore]> {
    return this.spaces.entries();
  }

  /** Records across all namespaces. */
  get totalVectorCount(): number {
    let n = 0;
    for (const ns of this.spaces.values()) n += ns.size;
    return n;
  }

  /** Record count per namespace key. */
  counts(): Record<string, number> {
    const out: Record<string, number> = Object.create(null); // a namespace may be named `__proto__`
    for (const [key, ns] of this.spaces) out[key] = ns.size;
    return out;
  }
}
