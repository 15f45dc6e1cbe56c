/**
 * How deep a request's JSON may nest: one limit, {@link MAX_NESTING_DEPTH} levels of
 * objects and arrays, for filters (REST and gRPC alike) and for every other value of a
 * request body. Code that walks JSON recursively (the filter compiler, `JSON.stringify`
 * in messages, rendering echoed fields) is then safe from stack overflows; the walk here
 * is iterative, so checking is safe at any depth.
 */
import { type EmulatorError, invalidArgument } from './errors.js';

/** The most levels of objects and arrays a filter, or any value of a request body, may nest. */
export const MAX_NESTING_DEPTH = 64;

/** Is `value` nested deeper than `max` levels? A scalar is 0 levels, `{}` and `[]` one. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (let i = 0; i < children.length; i++) {
      const child: unknown = children[i];
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The 400 for a value nested too deep; `what` names it (`filter`, `request field "x"`). */
export function tooDeep(what: string): EmulatorError {
  return invalidArgument(`Invalid ${what}: nested deeper than the maximum of ${MAX_NESTING_DEPTH} levels`);
}

/**
 * Check a parsed request body: each of its values may nest at most
 * {@link MAX_NESTING_DEPTH} levels (so a filter, one level below the body, gets exactly
 * the filter's limit and message).
 */
export function assertBodyDepth(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  if (Array.isArray(body)) {
    if (nestedDeeperThan(body, MAX_NESTING_DEPTH + 1)) throw tooDeep('request body');
    return;
  }
  for (const [key, value] of Object.entries(body)) {
    if (nestedDeeperThan(value, MAX_NESTING_DEPTH))
      throw tooDeep(key === 'filter' ? 'filter' : `request field ${JSON.stringify(key.slice(0, 80))}`);
  }
}
