/**
 * An index's read capacity (API 2025-10 and later): `OnDemand` (the default) or
 * `Dedicated` read nodes (`node_type`, `scaling`, `manual: { replicas, shards }`). The
 * emulator serves every index the same way whatever its capacity; it keeps what a
 * create or configure asked for and reports it back, with a `status` that is `Ready` at
 * once (Dedicated with `current_replicas` / `current_shards` as configured), as Pinecone
 * reports a capacity change that has finished. Shapes: the generated models
 * `ReadCapacity`, `ReadCapacityPatch` and `ReadCapacityResponse` of the official client.
 */
import { invalidArgument } from './errors.js';
import { isObject, type JsonObject } from './validate.js';

/** Dedicated read nodes. */
export interface DedicatedReadCapacity {
  /** `b1` or `t1`. */
  nodeType: string;
  /** `Manual` (the one scaling Pinecone offers). */
  scaling: string;
  manual: { replicas: number; shards: number };
}

/** How an index serves reads (camelCase, as the official client's types spell it). */
export type ReadCapacity = { mode: 'OnDemand' } | { mode: 'Dedicated'; dedicated: DedicatedReadCapacity };

/** An index's read capacity when none was asked for. */
export const ON_DEMAND: ReadCapacity = { mode: 'OnDemand' };

const NODE_TYPES = ['b1', 't1'];

function integerAtLeast(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidArgument(`${field} must be an integer of at least ${min} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** Check a whole read capacity (a create, or a programmatic definition). Throws 400. */
export function checkReadCapacity(rc: ReadCapacity, field = 'read_capacity'): ReadCapacity {
  if (rc.mode === 'OnDemand') return { mode: 'OnDemand' };
  if (rc.mode !== 'Dedicated') {
    const mode = (rc as { mode: unknown }).mode;
    throw invalidArgument(`${field}.mode must be OnDemand or Dedicated (got ${JSON.stringify(mode)})`);
  }
  const d = rc.dedicated;
  if (!isObject(d)) throw invalidArgument(`${field}.dedicated is required when mode is Dedicated`);
  if (!NODE_TYPES.includes(d.nodeType)) {
    throw invalidArgument(
      `${field}.dedicated.node_type must be b1 or t1 (got ${JSON.stringify(d.nodeType)})`,
    );
  }
  if (d.scaling !== 'Manual') {
    throw invalidArgument(`${field}.dedicated.scaling must be Manual (got ${JSON.stringify(d.scaling)})`);
  }
  if (!isObject(d.manual))
    throw invalidArgument(`${field}.dedicated.manual is required when scaling is Manual`);
  return {
    mode: 'Dedicated',
    dedicated: {
      nodeType: d.nodeType,
      scaling: d.scaling,
      manual: {
        replicas: integerAtLeast(d.manual.replicas, `${field}.dedicated.manual.replicas`, 0),
        shards: integerAtLeast(d.manual.shards, `${field}.dedicated.manual.shards`, 1),
      },
    },
  };
}

/**
 * A wire `read_capacity` (snake_case) applied over the current capacity: a create passes
 * `ON_DEMAND` and must be complete; a configure may leave out fields of a Dedicated
 * capacity it keeps (`ReadCapacityPatch`). Throws 400 naming the field.
 */
export function parseReadCapacity(
  value: unknown,
  current: ReadCapacity = ON_DEMAND,
  field = 'read_capacity',
): ReadCapacity {
  if (!isObject(value)) throw invalidArgument(`${field} must be an object`);
  if (value.mode === 'OnDemand') return { mode: 'OnDemand' };
  if (value.mode !== 'Dedicated') {
    throw invalidArgument(`${field}.mode must be OnDemand or Dedicated (got ${JSON.stringify(value.mode)})`);
  }
  const wire = value.dedicated;
  if (wire !== undefined && !isObject(wire)) throw invalidArgument(`${field}.dedicated must be an object`);
  const base = current.mode === 'Dedicated' ? current.dedicated : undefined;
  const manual = wire?.manual;
  if (manual !== undefined && !isObject(manual))
    throw invalidArgument(`${field}.dedicated.manual must be an object`);
  const merged = {
    nodeType: wire?.node_type ?? base?.nodeType,
    scaling: wire?.scaling ?? base?.scaling,
    manual:
      manual === undefined && base === undefined
        ? undefined
        : {
            replicas: manual?.replicas ?? base?.manual.replicas,
            shards: manual?.shards ?? base?.manual.shards,
          },
  };
  return checkReadCapacity({ mode: 'Dedicated', dedicated: merged as DedicatedReadCapacity }, field);
}

/** The `read_capacity` of an IndexModel: the capacity and its (finished) status. */
export function renderReadCapacity(rc: ReadCapacity): JsonObject {
  if (rc.mode === 'OnDemand') return { mode: 'OnDemand', status: { state: 'Ready' } };
  const { nodeType, scaling, manual } = rc.dedicated;
  return {
    mode: 'Dedicated',
    dedicated: {
      node_type: nodeType,
      scaling,
      manual: { replicas: manual.replicas, shards: manual.shards },
    },
    status: { state: 'Ready', current_replicas: manual.replicas, current_shards: manual.shards },
  };
}
