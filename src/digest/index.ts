/**
 * sha256 for the deterministic core (state hashes, definition hashes, child run ids), which may not import `node:`
 * modules. The portable implementation (@noble/hashes) gives the same digests everywhere; an executor installs Node's
 * native one at start-up (src/executor/native-digest.ts), about ten times faster for the ~200-byte state texts every
 * event hashes. Both must agree byte for byte (test/digest/digest.test.ts): recorded state hashes are a contract.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** An incremental sha256 over UTF-8 text. */
export interface Sha256 {
  update(text: string): Sha256;
  /** The digest as lowercase hex; the hash may not be used after. */
  hex(): string;
}

export interface DigestImplementation {
  /** sha256 of the UTF-8 text, lowercase hex. */
  hex(text: string): string;
  create(): Sha256;
}

const utf8 = new TextEncoder();

export const portableDigest: DigestImplementation = {
  hex: (text) => bytesToHex(nobleSha256(utf8.encode(text))),
  create: () => {
    const h = nobleSha256.create();
    const self: Sha256 = {
      update: (text) => {
        h.update(utf8.encode(text));
        return self;
      },
      hex: () => bytesToHex(h.digest()),
    };
    return self;
  },
};

let current: DigestImplementation = portableDigest;

/** Replaces the implementation (an executor's native one); digests must not change. */
export function installDigest(impl: DigestImplementation): void {
  current = impl;
}

export function sha256Hex(text: string): string {
  return current.hex(text);
}

export function sha256(): Sha256 {
  return current.create();
}
