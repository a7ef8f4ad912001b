/**
 * A real browser for the dashboard's tests: Debian's chromium package driven
 * by playwright-core (no browser download, ever). Headless, no sandbox (CI
 * runs as root), nothing that phones home, a fresh profile per launch that
 * close() removes. CHROMIUM_BIN overrides the binary.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumBin(): string | null {
  for (const c of [process.env.CHROMIUM_BIN, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (c && existsSync(c)) return c;
  return null;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** What the pages wrote to the console and threw, for a failing test's message. */
  log: string[];
  close(): Promise<void>;
}

export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const bin = chromiumBin();
  if (!bin) throw new Error("chromium not found: install Debian's chromium package (.ci/run does) or set CHROMIUM_BIN");
  const profile = await mkdtemp(join(tmpdir(), 'lf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: bin,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    timeout: 30_000,
  });
  const log: string[] = [];
  context.on('page', (p) => watch(p, log));
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, log);
  return {
    context,
    page,
    log,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const watched = new WeakSet<Page>();
function watch(page: Page, log: string[]): void {
  if (watched.has(page)) return;
  watched.add(page);
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  // Actions that ask "are you sure?" (cancel) are confirmed, as a person would.
  page.on('dialog', (d) => void d.accept());
}
