import { describe, expect, it, vi } from 'vitest';
import {
  aimdDecreasedMessage,
  aimdIncreasedMessage,
  rateLimitedMessage,
  resolveLogger,
  silentLogger,
  throttledMessage,
} from '../src/log.js';

describe('the spec log messages, to the character', () => {
  it('throttle record', () => {
    expect(throttledMessage(429, 'my-index.svc.pinecone.io', 1, 4, 0.531)).toBe(
      'Throttled response: status=429 host=my-index.svc.pinecone.io attempt=1/4 delay=0.531s',
    );
    expect(throttledMessage('RESOURCE_EXHAUSTED', 'h', 2, 6, 1.5)).toBe(
      'Throttled response: status=RESOURCE_EXHAUSTED host=h attempt=2/6 delay=1.500s',
    );
  });
  it('AIMD records', () => {
    expect(aimdDecreasedMessage(8, 4, 8)).toBe('AIMD limiter decreased: before=8 after=4 ceiling=8');
    expect(aimdIncreasedMessage(5, 8)).toBe('AIMD limiter increased: now=5 ceiling=8');
  });
  it('INFO record', () => {
    expect(rateLimitedMessage('h.io')).toMatch(
      /^Rate limited by host=h\.io\. Adaptive concurrency will reduce in-flight requests\. See https:\/\/\S+ for details\.$/,
    );
  });
});

describe('resolveLogger', () => {
  it('is silent by default and honours PINECONE_LOG_LEVEL', () => {
    expect(resolveLogger(undefined, {})).toBe(silentLogger);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const info = resolveLogger(undefined, { PINECONE_LOG_LEVEL: 'info' });
      info.debug('hidden', { logger: 'x', event: 'e' });
      info.info('shown', { logger: 'pinecone._internal.http_client', event: 'e' });
      expect(write).toHaveBeenCalledTimes(1);
      expect(String(write.mock.calls[0]![0])).toMatch(/ INFO pinecone\._internal\.http_client shown\n$/);
      resolveLogger(undefined, { PINECONE_LOG_LEVEL: 'DEBUG' }).debug('d', { logger: 'x', event: 'e' });
      expect(write).toHaveBeenCalledTimes(2);
    } finally {
      write.mockRestore();
    }
  });
  it('prefers the given logger', () => {
    const mine = { debug() {}, info() {}, warn() {} };
    expect(resolveLogger(mine, { PINECONE_LOG_LEVEL: 'debug' })).toBe(mine);
  });
});
