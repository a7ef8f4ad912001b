/**
 * Attempts carried in a report's answer are sealed for the worker's session
 * (docs/nats.md, "The next attempt comes back with the answer"): X25519
 * between the engines' exchange key, published in LF_KEYS signed with the
 * attempts' Ed25519 key, and a key pair each worker makes when it starts.
 * What a worker relies on: a seal made for it verifies, and nothing else
 * does (another body, another worker's seal, a key the engines did not sign).
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { WorkerSession } from '../../src/cluster/transport/attempt-sessions.js';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keyOf = (tokens: AttemptTokens) =>
  createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(tokens.publicKey(), 'base64url')]),
    format: 'der',
    type: 'spki',
  });
const body = new TextEncoder().encode(JSON.stringify({ runId: 'r1', taskId: 'second', attempt: 1 }));

describe('sessions of carried attempts', () => {
  const secret = randomBytes(32);
  const tokens = AttemptTokens.fromSecret(secret);
  const record = tokens.sessions().record((d) => tokens.sign(d));

  it('an engine seals for the session a worker made from the published key, and that worker verifies it', () => {
    const worker = WorkerSession.from(record, keyOf(tokens))!;
    expect(worker).not.toBeNull();
    expect(worker.header).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const mac = tokens.sessions().seal(worker.header, body)!;
    expect(worker.verify(body, mac)).toBe(true);
    // Every engine derives the same exchange key from the secret: another engine's seal is the same.
    const otherEngine = AttemptTokens.fromSecret(secret);
    expect(otherEngine.sessions().seal(worker.header, body)).toBe(mac);
  });

  it('a changed body, a seal for another worker, or a cut seal does not verify', () => {
    const worker = WorkerSession.from(record, keyOf(tokens))!;
    const other = WorkerSession.from(record, keyOf(tokens))!;
    const mac = tokens.sessions().seal(worker.header, body)!;
    expect(worker.verify(new TextEncoder().encode('{"runId":"r2"}'), mac)).toBe(false);
    expect(other.verify(body, mac)).toBe(false);
    expect(worker.verify(body, tokens.sessions().seal(other.header, body)!)).toBe(false);
    expect(worker.verify(body, mac.slice(0, -1))).toBe(false);
  });

  it("a worker takes no exchange key the attempts' key did not sign: none, and carried attempts must come signed", () => {
    const stranger = AttemptTokens.fromSecret(randomBytes(32));
    // Signed by another key (a record put in LF_KEYS by someone else, or a key pinned with LEDGERFLOW_ATTEMPT_KEY that differs).
    expect(
      WorkerSession.from(
        stranger.sessions().record((d) => stranger.sign(d)),
        keyOf(tokens),
      ),
    ).toBeNull();
    // Another exchange key under the engines' signature of the first.
    const [, sig] = record.split('.');
    const [otherPub] = stranger
      .sessions()
      .record((d) => stranger.sign(d))
      .split('.');
    expect(WorkerSession.from(`${otherPub}.${sig}`, keyOf(tokens))).toBeNull();
    for (const bad of ['', 'x', `${record}.more`, record.replace('.', '')])
      expect(WorkerSession.from(bad, keyOf(tokens))).toBeNull();
  });

  it('a session header that is no X25519 key gets no seal (the attempt is then signed)', () => {
    const sessions = tokens.sessions();
    expect(sessions.seal('not-a-key', body)).toBeUndefined();
    // The all-zero point is of low order: X25519 with it gives no secret, and nothing is sealed with a known key.
    expect(sessions.seal(Buffer.alloc(32).toString('base64url'), body)).toBeUndefined();
    const ed = generateKeyPairSync('ed25519')
      .publicKey.export({ format: 'der', type: 'spki' })
      .subarray(-32)
      .toString('base64url');
    // 32 bytes read as an X25519 key are one (any 32 bytes are): sealed, but for a session nobody holds the private half of.
    expect(typeof sessions.seal(ed, body)).toBe('string');
  });
});

describe('attempt tokens, kept once made', () => {
  it("a token kept is the one made afresh: its report verifies, another attempt's token does not, past the bound too", () => {
    const secret = randomBytes(32);
    const engine = AttemptTokens.fromSecret(secret);
    const fresh = () => AttemptTokens.fromSecret(secret);
    const tokens = Array.from({ length: 5000 }, (_, i) => engine.tokenFor(`run-${i}`, 'charge', 1));
    for (const i of [0, 1, 2500, 4999]) {
      expect(tokens[i]).toBe(fresh().tokenFor(`run-${i}`, 'charge', 1));
      expect(engine.verify(`run-${i}`, 'charge', 1, tokens[i])).toBe(true);
      expect(engine.verify(`run-${i}`, 'charge', 2, tokens[i])).toBe(false);
      expect(engine.verify(`run-${i + 1}`, 'charge', 1, tokens[i])).toBe(false);
    }
  });
});
