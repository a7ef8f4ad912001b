import { describe, expect, it } from 'vitest';
import { instanceKey, instanceToken } from '../../src/compiler/index.js';

describe('task instances', () => {
  it('name a plain task by its id, so its keys, tokens and timer ids are what they were before loops and maps', () => {
    expect(instanceKey({ task: 'scan' })).toBe('scan');
    expect(instanceToken({ task: 'scan' })).toBe('scan');
  });

  it('name loop iterations and map items the way status and history print them, and as NATS-safe tokens', () => {
    expect(instanceKey({ task: 'count', iteration: 2 })).toBe('count#2');
    expect(instanceKey({ task: 'fetch', item: 3 })).toBe('fetch[3]');
    expect(instanceKey({ task: 'fetch', iteration: 2, item: 0 })).toBe('fetch#2[0]');
    expect(instanceToken({ task: 'fetch', iteration: 2, item: 0 })).toBe('fetch.i2.m0');
    // Task ids hold no dots, so no instance's token is a plain task's id or another instance's token.
    expect(instanceToken({ task: 'a', item: 1 })).not.toBe(instanceToken({ task: 'a', iteration: 1 }));
  });
});
