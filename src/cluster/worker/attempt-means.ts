/**
 * What a worker runs its attempts with besides the handlers, made on its first attempt and kept: the secrets, the data
 * key of encryption at rest, the blobs bucket and the live progress channel, each sealed with that key when there is one.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { chainSecrets, defaultSecrets, kvSecrets, type SecretsProvider } from '../../secrets/index.js';
import { encryptedBlobs, isSealedValue, KeyRing, sealedProgress } from '../../encryption/index.js';
import type { ProgressChannel } from '../../progress/index.js';
import { ObjectBlobStore, type BlobStore } from '../../store/index.js';
import { maxOutputBytes, ProgressBucket, type TaskMessage } from '../transport/index.js';

export interface AttemptMeans {
  secrets: SecretsProvider;
  ring: KeyRing;
  /** The LF_BLOBS bucket: large inputs read from it, large outputs put there and reported as references. */
  blobs: BlobStore;
  progress: ProgressChannel;
  outputLimit: number;
}

export class WorkerMeans {
  private means: Omit<AttemptMeans, 'outputLimit'> | undefined;
  private keyed = false;

  constructor(
    private readonly nc: () => NatsConnection,
    private readonly given: SecretsProvider | undefined,
  ) {}

  /** `keyed`: the attempt's engine holds a data key (an attempt it ran itself comes unsealed: local-attempts.ts). */
  for(task: TaskMessage, keyed = false): AttemptMeans {
    const nc = this.nc();
    // The data key of encryption at rest, from the same secrets: the attempt's input comes sealed, its outcome goes so.
    // Asked for only once an attempt came sealed (the engines hold a key): a worker where nothing is encrypted, such
    // as a station's, whose leaf may not read LF_SECRETS, asks no provider for it.
    if (keyed || isSealedValue(task.input)) this.keyed = true;
    if (!this.means) {
      const secrets = this.given ?? chainSecrets(kvSecrets(nc), defaultSecrets());
      const ring = new KeyRing((name) => (this.keyed ? secrets.get(name) : Promise.resolve(undefined)));
      this.means = {
        secrets,
        ring,
        // Sealed at rest with the same data key as the events, when there is one (encryption/blobs.ts).
        blobs: encryptedBlobs(new ObjectBlobStore(async () => nc, { create: false }), ring),
        progress: sealedProgress(new ProgressBucket(nc), ring),
      };
    }
    return { ...this.means, outputLimit: maxOutputBytes(nc.info?.max_payload) };
  }
}
