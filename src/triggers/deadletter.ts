/**
 * Rejected events are kept, never dropped: one JSON line per event, with the reason, in `<store>/dead-letter/<UTC
 * date>.jsonl` on the embedded store (a dead-letter subject on NATS later implements the same sink).
 */
import { mkdir } from 'node:fs/promises';
import { writeSynced } from '../store/index.js';
import { join } from 'node:path';
import type { RejectionStage } from './admit.js';

export interface DeadLetter {
  deadLetteredAt: string;
  stage: RejectionStage;
  reason: string;
  problems: string[];
  /** The event exactly as received. */
  event: unknown;
}

export interface DeadLetterSink {
  /** Stores the entry durably; returns where it went (a file, a subject). */
  put(entry: DeadLetter): Promise<string>;
}

export function deadLetterDir(storeDir: string): string {
  return join(storeDir, 'dead-letter');
}

export function fileDeadLetters(dir: string): DeadLetterSink {
  return {
    async put(entry) {
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${entry.deadLetteredAt.slice(0, 10)}.jsonl`);
      // One write of one line in append mode: concurrent writers interleave whole lines.
      await writeSynced(file, `${JSON.stringify(entry)}\n`, 'a');
      return file;
    },
  };
}
