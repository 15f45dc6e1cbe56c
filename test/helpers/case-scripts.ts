/**
 * Replies scripted per case, for the raw loopback servers the response fuzzers talk to
 * (`raw-response-server.ts`, `raw-grpc-response-server.ts`). A request is matched to its
 * case by the id the client put in it (`case-123` anywhere in the request), not by arrival
 * order, so one case's broken connection cannot shift another's answers. The n-th request
 * of a case gets its n-th reply (the last one again past the end). `listenScripted` starts
 * either server on loopback with that scripting side as its handle.
 */

/** The scripting side, as a fuzzer sees it. */
export interface CaseScripts<R> {
  /** Script a case's replies (by attempt). */
  script(caseId: number, replies: R[]): void;
  /** Requests of a case that got (the start of) a reply. */
  served(caseId: number): number;
  /** Forget a case. */
  forget(caseId: number): void;
}

const CASE_ID = /case-(\d+)/;

/** A fresh set of scripts, and `next`: the reply for a request (undefined: no script for it). */
export function caseScripts<R>(): CaseScripts<R> & { next(request: string): R | undefined } {
  const scripts = new Map<number, { replies: R[]; served: number }>();
  return {
    script(caseId, replies) {
      scripts.set(caseId, { replies, served: 0 });
    },
    served: (caseId) => scripts.get(caseId)?.served ?? 0,
    forget(caseId) {
      scripts.delete(caseId);
    },
    next(request) {
      const id = CASE_ID.exec(request)?.[1];
      const script = id === undefined ? undefined : scripts.get(Number(id));
      if (!script || script.replies.length === 0) return undefined;
      const reply = script.replies[Math.min(script.served, script.replies.length - 1)]!;
      script.served += 1;
      return reply;
    },
  };
}

/** What a scripted server needs of a Node server: `net.Server` and `Http2Server` both fit. */
interface Listenable {
  listen(port: number, host: string, listening: () => void): unknown;
  address(): unknown;
  close(closed: () => void): unknown;
}

/**
 * Start `server` on a free loopback port and give the fuzzers' handle to it: its URL, the
 * scripting side of `scripts`, and `close` (stops listening and ends, by `destroyOpen`, the
 * connections still open).
 */
export async function listenScripted<R>(
  server: Listenable,
  scripts: CaseScripts<R>,
  destroyOpen: () => void,
): Promise<CaseScripts<R> & { url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    script: scripts.script,
    served: scripts.served,
    forget: scripts.forget,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        destroyOpen();
      }),
  };
}
