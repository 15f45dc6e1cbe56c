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

/**
 * Result of `fetch`. `records` is the official client's name, `vectors` the REST wire's
 * (and this SDK's from the start): both hold the same object.
 */
export interface FetchResponse {
  records: Record<string, Vector>;
  vectors: Record<string, Vector>;
  namespace: string;
  usage?: Usage;
}

/** Result of `fetchByMetadata`: one page of matching records (`records` and `vectors` are one object). */
export interface FetchByMetadataResponse extends FetchResponse {
  /** Present when more records match: pass `next` as `paginationToken`. */
  pagination?: { next: string };
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

/** Which metadata fields of a namespace are indexed for filtering (default: all). */
export interface MetadataSchema {
  fields: Record<string, { filterable: boolean }>;
}

/**
 * A namespace as `createNamespace`, `describeNamespace` and `listNamespaces` describe it.
 * `recordCount` is a decimal string, as the official client gives it (a 64-bit integer
 * on the wire).
 */
export interface NamespaceDescription {
  name: string;
  recordCount: string;
  schema?: MetadataSchema;
  indexedFields?: { fields: string[] };
}

/** Result of `listNamespaces`. */
export interface ListNamespacesResponse {
  namespaces: NamespaceDescription[];
  pagination?: { next: string };
  /** Namespaces matching the prefix, over all pages. */
  totalCount?: number;
}

/** A bulk import as `describeImport` and `listImports` describe it. */
export interface ImportModel {
  id: string;
  uri: string;
  /** `Pending`, `InProgress`, `Failed`, `Completed` or `Cancelled`. */
  status: string;
  createdAt: Date;
  finishedAt?: Date;
  /** 0..100. */
  percentComplete: number;
  recordsImported: number;
  /** Why it failed, when it did. */
  error?: string;
}

/** Result of `startImport`. */
export interface StartImportResponse {
  id: string;
}

/** Result of `listImports`. */
export interface ListImportsResponse {
  data: ImportModel[];
  pagination?: { next: string };
}

/**
 * A record for an index with integrated embedding: `_id` (or `id`) and flat fields; the
 * field the index maps to its model is embedded by the server.
 */
export type IntegratedRecord = { _id?: string; id?: string } & Record<string, unknown>;

/** One hit of `searchRecords`. */
export interface SearchHit {
  _id: string;
  _score: number;
  fields: Record<string, unknown>;
}

/** Result of `searchRecords`, in the official client's shape. */
export interface SearchRecordsResponse {
  result: { hits: SearchHit[] };
  usage: { readUnits: number; embedTotalTokens?: number; rerankUnits?: number };
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
  /** Records per `upsertRecords` request (Pinecone's limit for integrated embedding). */
  maxRecordsPerUpsertRecords: 96,
} as const;
