/**
 * Bulk imports (`/bulk/imports`), served honestly from local files: Pinecone reads Parquet
 * from object storage (`s3://`, `gs://`, Azure); the emulator reads JSON Lines from a
 * `file://` URI, in the background, into the same store, with Pinecone's lifecycle
 * (`Pending` → `InProgress` → `Completed` / `Failed` / `Cancelled`) and error modes.
 *
 * Layout, as Pinecone's: the URI names a directory whose subdirectories are namespaces
 * (`__default__` or files directly inside it: the default namespace), each holding
 * `*.jsonl` / `*.ndjson` files; or it names one file (default namespace). One record per
 * line: `{ "id", "values", "sparse_values"?, "metadata"? }` (camelCase `sparseValues`
 * too; `metadata` an object or a JSON string, as Pinecone's Parquet column is).
 * Parquet files are refused with a clear message.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { invalidArgument, notFound } from './errors.js';
import { canonicalNamespace, type IndexStore } from './index-store.js';
import type { RecordInput } from './store.js';
import {
  type JsonObject,
  optionalInteger,
  optionalString,
  parseUpsertVectors,
  requireObject,
} from './validate.js';
import { type OperationRequest, single } from './wire.js';

/** Records written per store call (and between checks for cancellation). */
const CHUNK = 500;
const LINE_FORMATS = new Set(['.jsonl', '.ndjson']);

type Status = 'Pending' | 'InProgress' | 'Failed' | 'Completed' | 'Cancelled';

interface ImportJob {
  id: string;
  uri: string;
  status: Status;
  createdAt: Date;
  finishedAt?: Date;
  percentComplete: number;
  recordsImported: number;
  error?: string;
  errorMode: 'continue' | 'abort';
}

/** The imports of each index, keyed by its store (they go when the index does). */
const jobsByStore = new WeakMap<IndexStore, Map<string, ImportJob>>();
let nextId = 1;

function jobsOf(store: IndexStore): Map<string, ImportJob> {
  let jobs = jobsByStore.get(store);
  if (!jobs) {
    jobs = new Map();
    jobsByStore.set(store, jobs);
  }
  return jobs;
}

function wire(job: ImportJob): JsonObject {
  const out: JsonObject = {
    id: job.id,
    uri: job.uri,
    status: job.status,
    createdAt: job.createdAt.toISOString(),
    percentComplete: job.percentComplete,
    recordsImported: job.recordsImported,
  };
  if (job.finishedAt) out.finishedAt = job.finishedAt.toISOString();
  if (job.error !== undefined) out.error = job.error;
  return out;
}

/** `POST /bulk/imports` with `{ uri, errorMode?: { onError }, integrationId? }`: starts at once. */
export function startImport(store: IndexStore, req: OperationRequest): JsonObject {
  const body = requireObject(req.body);
  const uri = optionalString(body.uri, 'uri');
  if (!uri) throw invalidArgument('uri is required to start an import');
  const mode = body.errorMode === undefined ? 'continue' : requireObject(body.errorMode, 'errorMode').onError;
  const onError = optionalString(mode, 'errorMode.onError') ?? 'continue';
  if (onError !== 'continue' && onError !== 'abort') {
    throw invalidArgument(`errorMode.onError must be "continue" or "abort", got ${JSON.stringify(onError)}`);
  }
  if (!uri.startsWith('file://')) {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(uri)?.[0] ?? uri;
    throw invalidArgument(
      `The emulator imports only from file:// URIs (got ${scheme}); Pinecone itself reads s3://, gs:// and Azure Blob Storage`,
    );
  }
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (cause) {
    throw invalidArgument(`Invalid file URI ${JSON.stringify(uri)}: ${(cause as Error).message}`);
  }
  const job: ImportJob = {
    id: String(nextId++),
    uri,
    status: 'Pending',
    createdAt: new Date(),
    percentComplete: 0,
    recordsImported: 0,
    errorMode: onError,
  };
  jobsOf(store).set(job.id, job);
  // The import runs after the answer, as Pinecone's do; failures end up in the job.
  setImmediate(() => void runImport(store, job, path));
  return { id: job.id };
}

/** `GET /bulk/imports?limit=&paginationToken=`: imports in id order. */
export function listImports(store: IndexStore, req: OperationRequest): JsonObject {
  const q = req.query ?? {};
  const limit = optionalInteger(single(q.limit), 'limit', 1, 100) ?? 100;
  const token = single(q.paginationToken);
  const after = token === undefined || token === '' ? 0 : Number(token);
  if (!Number.isInteger(after) || after < 0)
    throw invalidArgument(`Invalid pagination token ${JSON.stringify(token)}`);
  const all = [...jobsOf(store).values()].filter((j) => Number(j.id) > after);
  const page = all.slice(0, limit);
  const out: JsonObject = { data: page.map(wire) };
  if (all.length > limit) out.pagination = { next: page[page.length - 1]!.id };
  return out;
}

function jobParam(store: IndexStore, req: OperationRequest): ImportJob {
  const id = req.params?.id ?? '';
  const job = jobsOf(store).get(id);
  if (!job) throw notFound(`Import ${id} not found`);
  return job;
}

/** `GET /bulk/imports/{id}`. */
export function describeImport(store: IndexStore, req: OperationRequest): JsonObject {
  return wire(jobParam(store, req));
}

/** `DELETE /bulk/imports/{id}`: stops an import that has not finished (a finished one is left as it is). */
export function cancelImport(store: IndexStore, req: OperationRequest): JsonObject {
  const job = jobParam(store, req);
  if (job.status === 'Pending' || job.status === 'InProgress') {
    job.status = 'Cancelled';
    job.finishedAt = new Date();
  }
  return {};
}

/** The files of an import and the namespace each goes to. */
async function filesOf(path: string): Promise<{ file: string; namespace: string }[]> {
  const info = await stat(path);
  if (info.isFile()) return [{ file: path, namespace: '' }];
  const out: { file: string; namespace: string }[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const full = join(path, entry.name);
    if (entry.isFile()) out.push({ file: full, namespace: '' });
    else if (entry.isDirectory()) {
      const namespace = canonicalNamespace(entry.name);
      for (const name of (await readdir(full)).sort()) out.push({ file: join(full, name), namespace });
    }
  }
  return out;
}

/** One line of a file as an upsert record (`sparse_values`, metadata as a JSON string, accepted). */
function toRecord(line: string): unknown {
  const raw = JSON.parse(line) as JsonObject;
  const metadata = typeof raw.metadata === 'string' ? JSON.parse(raw.metadata) : raw.metadata;
  return {
    id: raw.id,
    values: raw.values ?? [],
    sparseValues: raw.sparseValues ?? raw.sparse_values ?? undefined,
    metadata: metadata ?? undefined,
  };
}

async function runImport(store: IndexStore, job: ImportJob, path: string): Promise<void> {
  if (job.status !== 'Pending') return;
  job.status = 'InProgress';
  const fail = (message: string) => {
    job.status = 'Failed';
    job.error = message;
    job.finishedAt = new Date();
  };
  try {
    const files = (await filesOf(path)).filter(({ file }) => {
      const ext = extname(file).toLowerCase();
      if (ext === '.parquet') {
        throw new Error(
          `${basename(file)}: the emulator reads JSON Lines (.jsonl), not Parquet; convert the file (one JSON record per line)`,
        );
      }
      return LINE_FORMATS.has(ext);
    });
    if (files.length === 0) return fail(`No .jsonl or .ndjson files under ${job.uri}`);
    for (const [n, { file, namespace }] of files.entries()) {
      let chunk: RecordInput[] = [];
      const flush = () => {
        if (chunk.length > 0) store.namespaceForWrite(namespace).upsert(chunk);
        job.recordsImported += chunk.length;
        chunk = [];
      };
      let lineNo = 0;
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        lineNo++;
        if (line.trim() === '') continue;
        if ((job.status as Status) === 'Cancelled') return;
        try {
          chunk.push(...parseUpsertVectors([toRecord(line)], store.shape));
        } catch (error) {
          if (job.errorMode === 'abort') {
            flush();
            return fail(`${basename(file)} line ${lineNo}: ${(error as Error).message}`);
          }
          continue;
        }
        if (chunk.length >= CHUNK) {
          flush();
          // Let the server answer other requests between chunks.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      flush();
      job.percentComplete = Math.round(((n + 1) / files.length) * 100);
    }
    if ((job.status as Status) === 'Cancelled') return;
    job.status = 'Completed';
    job.percentComplete = 100;
    job.finishedAt = new Date();
  } catch (error) {
    if ((job.status as Status) !== 'Cancelled') fail((error as Error).message);
  }
}
