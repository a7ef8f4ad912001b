/**
 * The data keys of encryption at rest (docs/security.md): `LF_DATA_KEY` holds the key new writes use, each key that
 * came before it stays as `LF_DATA_KEY_<id>` so what it sealed still opens. A key is 32 random bytes, written as base64
 * (or 64 hex digits); its id is derived from it (16 hex digits of a sha256), so a key never needs a name and a stored
 * value names the key it needs. Read through the secrets providers, lazily, once per id per ring.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DataKeyError } from '../errors/index.js';

/** The secret that holds the current key. */
export const DATA_KEY_SECRET = 'LF_DATA_KEY';
/** The secret that keeps the key with this id after a rotation. */
export const keySecretName = (id: string): string => `${DATA_KEY_SECRET}_${id}`;

export interface DataKey {
  /** 16 hex digits, derived from the key: what sealed values record. */
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** Where key texts come from: a secrets provider's `get`. */
export type KeyLookup = (name: string) => Promise<string | undefined>;

const KEY_ID = /^[0-9a-f]{16}$/;
export const isKeyId = (id: string): boolean => KEY_ID.test(id);

/** The key in a secret's text (base64 of 32 bytes, or 64 hex digits); `where` names the secret, never the value. */
export function parseDataKey(text: string, where: string): DataKey {
  const t = text.trim();
  let bytes: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(t)) bytes = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes === null || bytes.length !== 32)
    throw new DataKeyError(
      'LF_DATA_KEY_INVALID',
      `${where} is not a data key: it must be 32 random bytes as base64 (44 characters) or 64 hex digits; make one with \`ledgerflow keys rotate\` or \`openssl rand -base64 32\``,
      { secret: where },
    );
  return { id: createHash('sha256').update('ledgerflow data key\n').update(bytes).digest('hex').slice(0, 16), bytes };
}

/** A new key's text: 32 random bytes, base64. */
export function newDataKeyText(): string {
  return randomBytes(32).toString('base64');
}

/** A key id no provider had is asked for again after this long: a key given meanwhile is found without a restart. */
export const MISSING_KEY_RETRY_MS = 5_000;

/**
 * The keys one store decorator uses: the current one (for writes) and any by id (for reads), each looked up once.
 * Reads that need a key not yet loaded load it first (load), then open synchronously (cached).
 */
export class KeyRing {
  private currentKey: Promise<DataKey | null> | undefined;
  private readonly byId = new Map<string, DataKey>();
  /** Ids no provider had, with when they were last asked for. */
  private readonly missing = new Map<string, number>();
  private loadedCurrent: DataKey | null | undefined;

  constructor(
    private readonly lookup: KeyLookup,
    private readonly now: () => number = Date.now,
    /** Every provider's value of a name (a chain's): the key an id names may be in a provider `lookup` does not reach. */
    private readonly lookupAll?: (name: string) => Promise<string[]>,
  ) {}

  /** The key new writes use, or null when no `LF_DATA_KEY` is set (then nothing is encrypted). */
  current(): Promise<DataKey | null> {
    this.currentKey ??= (async () => {
      const text = await this.lookup(DATA_KEY_SECRET);
      const key = text === undefined || text.trim() === '' ? null : parseDataKey(text, DATA_KEY_SECRET);
      if (key) this.byId.set(key.id, key);
      this.loadedCurrent = key;
      return key;
    })();
    // A lookup that failed (NATS down) is asked again next time, not remembered.
    this.currentKey.catch(() => {
      this.currentKey = undefined;
    });
    return this.currentKey;
  }

  /** The current key when it has been loaded (undefined: not yet asked). */
  get loaded(): DataKey | null | undefined {
    return this.loadedCurrent;
  }

  /** The key with this id, if loaded. */
  cached(id: string): DataKey | undefined {
    return this.byId.get(id);
  }

  /**
   * Loads the keys with these ids: `LF_DATA_KEY_<id>`, else `LF_DATA_KEY` again, which holds the key a rotation made
   * after this process first read it (a worker or engine not restarted meets values the restarted ones sealed with it).
   * Ids no provider has stay missing, asked for again after MISSING_KEY_RETRY_MS.
   */
  async load(ids: Iterable<string>): Promise<void> {
    await this.current();
    for (const id of ids) {
      if (this.byId.has(id) || !isKeyId(id)) continue;
      const askedAt = this.missing.get(id);
      if (askedAt !== undefined && this.now() - askedAt < MISSING_KEY_RETRY_MS) continue;
      const name = keySecretName(id);
      const text = await this.lookup(name);
      if (text !== undefined) {
        const key = parseDataKey(text, name);
        if (key.id !== id)
          throw new DataKeyError(
            'LF_DATA_KEY_INVALID',
            `${name} holds a key whose id is ${key.id}, not ${id}: it was changed; put back the key that id names`,
            { secret: name },
          );
        this.byId.set(id, key);
      } else {
        // Only read with: new writes keep the key this process loaded (docs/security.md, rotating the key). Every
        // provider's LF_DATA_KEY: a reader's own file or environment may hold the key KV LF_SECRETS replaced.
        const texts = this.lookupAll
          ? await this.lookupAll(DATA_KEY_SECRET)
          : [await this.lookup(DATA_KEY_SECRET)].filter((t) => t !== undefined);
        for (const text of texts) {
          const key = text.trim() === '' ? null : parseDataKey(text, DATA_KEY_SECRET);
          if (key?.id === id) {
            this.byId.set(id, key);
            break;
          }
        }
      }
      if (this.byId.has(id)) this.missing.delete(id);
      else this.missing.set(id, this.now());
    }
  }

  /** Whether `load` asked for this key id lately and no provider had it (asked again after MISSING_KEY_RETRY_MS). */
  isMissing(id: string): boolean {
    const askedAt = this.missing.get(id);
    return askedAt !== undefined && this.now() - askedAt < MISSING_KEY_RETRY_MS;
  }

  /** Whether any key at all is configured (after load/current). A reader without one sees `[encrypted]`. */
  get hasAnyKey(): boolean {
    return this.byId.size > 0;
  }
}
