/**
 * Control-plane types (indexes), camelCase as TypeScript users expect; the wire is
 * snake_case and the client translates.
 */
import type { Metric } from './types.js';

/** Where a serverless index runs. */
export interface ServerlessSpec {
  serverless: { cloud: 'aws' | 'gcp' | 'azure' | string; region: string };
}

/** A pod-based index's spec (passed through as given). */
export interface PodSpec {
  pod: Record<string, unknown>;
}

/** An index as `describeIndex` returns it. */
export interface IndexModel {
  name: string;
  dimension?: number | undefined;
  metric: Metric;
  /** The data-plane host, as the server gave it (usually without scheme). */
  host: string;
  spec?: ServerlessSpec | PodSpec | Record<string, unknown> | undefined;
  status: { ready: boolean; state: string };
  deletionProtection?: 'enabled' | 'disabled' | undefined;
  vectorType?: 'dense' | 'sparse' | string | undefined;
  tags?: Record<string, string> | undefined;
}

/** Options of `createIndex`. */
export interface CreateIndexOptions {
  name: string;
  dimension?: number;
  metric?: Metric;
  /** Default `{ serverless: { cloud: 'aws', region: 'us-east-1' } }`. */
  spec?: ServerlessSpec | PodSpec;
  deletionProtection?: 'enabled' | 'disabled';
  vectorType?: 'dense' | 'sparse';
  tags?: Record<string, string>;
  /** Wait until the index reports ready (polls describe). Default false. */
  waitUntilReady?: boolean;
}

/** Options of `configureIndex`. */
export interface ConfigureIndexOptions {
  deletionProtection?: 'enabled' | 'disabled';
  tags?: Record<string, string>;
  /** Pod-based indexes: replicas and pod type, passed through as `spec.pod`. */
  spec?: PodSpec | Record<string, unknown>;
}
