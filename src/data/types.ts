/**
 * Data-plane types, in the shapes of Pinecone's REST wire format (camelCase). Shared by
 * the SDK and the local emulator.
 */

/** A metadata value: Pinecone stores flat metadata of these kinds only. */
export type MetadataValue = string | number | boolean | string[];

/** Flat record metadata. */
export type RecordMetadata = Record<string, MetadataValue>;

/** Sparse vector: parallel arrays of indices and values. */
export interface SparseValues {
  indices: number[];
  values: number[];
}

/** A record to upsert or a record fetched. */
export interface Vector {
  id: string;
  /** Dense values. May be empty for sparse-only records. */
  values: number[] | Float32Array;
  sparseValues?: SparseValues | undefined;
  metadata?: RecordMetadata | undefined;
}

/** A query match. */
export interface ScoredVector {
  id: string;
  score: number;
  values?: number[];
  sparseValues?: SparseValues;
  metadata?: RecordMetadata;
}

/** Read units a request consumed, when the server reports them. */
export interface Usage {
  readUnits?: number;
}

/** A metadata filter (`{ genre: { $eq: 'drama' } }`), see Pinecone's filter language. */
export type MetadataFilter = Record<string, unknown>;

/** Result of `upsert`. */
export interface UpsertResponse {
  upsertedCount: number;
}

/** Result of `query`. */
export interface QueryResponse {
  matches: ScoredVector[];
  namespace: string;
  usage?: Usage;
}

/** Result of `fetch`. */
export interface FetchResponse {
  vectors: Record<string, Vector>;
  namespace: string;
  usage?: Usage;
}

/** Per-namespace statistics. */
export interface NamespaceSummary {
  vectorCount: number;
}

/** Result of `describeIndexStats`. */
export interface IndexStats {
  namespaces: Record<string, NamespaceSummary>;
  dimension?: number;
  indexFullness: number;
  totalVectorCount: number;
  metric?: string;
  vectorType?: string;
}

/** Result of `listPaginated`. */
export interface ListResponse {
  vectors: { id: string }[];
  pagination?: { next: string };
  namespace: string;
  usage?: Usage;
}

/** Result of `update`. */
export interface UpdateResponse {
  matchedRecords?: number;
}

/** Similarity metric of an index. */
export type Metric = 'cosine' | 'euclidean' | 'dotproduct';

/** The namespace name API version 2026-07 sends for the default namespace. */
export const DEFAULT_NAMESPACE = '__default__';

/** Limits Pinecone documents; enforced client-side and by the emulator. */
export const LIMITS = {
  maxVectorsPerUpsert: 1000,
  maxRequestBytes: 2 * 1024 * 1024,
  maxMetadataBytes: 40 * 1024,
  maxIdBytes: 512,
  maxTopK: 10_000,
  maxDimension: 20_000,
  maxIdsPerFetchOrDelete: 1000,
} as const;
