/**
 * Run leases (`<runId>.driver`, lock.ts's format) taken as hard links to a file this process wrote once, instead of
 * each made afresh.
 *
 * A driver takes a lease per run and drops it when the run settles. Made afresh, each costs four system calls (create,
 * write, close, unlink) and an inode the file system allocates and frees again: on ext4 the largest cost of a short run
 * besides its own log (inodes freed just now make the next allocations search further, for every file the store
 * creates). A link to a template already holding this process's identity is one call, atomic and refused when the name
 * exists exactly as `open(path, 'wx')` is, and its unlink frees nothing. Readers see the same bytes: {pid, time, host,
 * pidns}.
 *
 * `time` says when the lease was taken: a template serves a second at most, then another is written. Templates live in
 * `<store>/locks/` as `driver-<pid>-<hex>.template` (never a lock's name: those end in `.lock`); a store removes its
 * own on close, and the first template a store writes removes those whose process is dead (killed before its close).
 * Where hard links are refused (EXDEV, EPERM, ENOTSUP…), leases are made afresh as before.
 */
import { linkSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LOCK_LEFTOVER, linksRefused, lockIdentity, sweepDead, unlinkQuietly, writeWhole } from './lock.js';

/** How long one template serves, so that a lease's `time` is within this of when it was taken. */
const TEMPLATE_MS = 1000;
/** Templates, and what a kill leaves beside a run's lock (lock.ts). */
const SWEPT = new RegExp(`^driver-\\d+-[0-9a-f]+\\.template$|${LOCK_LEFTOVER.source}`);

export class LeaseTemplate {
  private path: string | null = null;
  private madeAt = 0;
  private swept = false;
  /** Links refused by the file system: leases are made afresh from then on. */
  private unsupported = false;

  constructor(private readonly dir: string) {}

  /**
   * Takes `lockPath` as a link to the template: true when taken, false when it exists already; null when it could not
   * be linked (the caller then creates the lock file itself, and its error says what is wrong).
   */
  link(lockPath: string): boolean | null {
    if (this.unsupported) return null;
    for (let attempt = 0; ; attempt++) {
      let template: string;
      try {
        template = this.current();
      } catch {
        return null;
      }
      try {
        linkSync(template, lockPath);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // The template removed by someone else (an operator clearing locks/), or linked to its limit: write another, once.
        if ((code === 'ENOENT' || code === 'EMLINK') && attempt === 0) {
          this.path = null;
          continue;
        }
        if (linksRefused(code)) this.unsupported = true;
        return null;
      }
    }
  }

  /** Removes this store's template (leases linked to it keep their bytes). */
  close(): void {
    if (this.path) unlinkQuietly(this.path);
    this.path = null;
  }

  /** The template to link to now: written again once a second (so that a lease's time is its own). */
  private current(): string {
    const now = Date.now();
    if (this.path && now - this.madeAt < TEMPLATE_MS) return this.path;
    mkdirSync(this.dir, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      this.sweep();
    }
    const path = join(this.dir, `driver-${process.pid}-${randomBytes(4).toString('hex')}.template`);
    writeWhole(path, Buffer.from(lockIdentity()));
    if (this.path) unlinkQuietly(this.path); // the leases linked to it keep their bytes: only its name goes
    this.path = path;
    this.madeAt = now;
    return path;
  }

  /** Removes the templates of processes dead on this host (killed before they could remove their own), and their lock leftovers. */
  private sweep(): void {
    sweepDead(this.dir, SWEPT);
  }
}
