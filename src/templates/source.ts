/**
 * Where templates come from besides the bundled ones: a folder holding the bundled layout
 * (`definitions/catalog/templates.yaml` and the files it names), a tarball of one (`.tgz`, `.tar.gz`, `.tar`: what `npm
 * pack` makes), or an npm package (`@acme/ledgerflow-templates`, fetched with `npm pack` into a temporary folder: the
 * user's npm, registry and cache). `<source>/<template>` picks one template of it. An edge: it reads files and runs
 * `tar` and `npm`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { errorMessage, UsageError } from '../errors/index.js';

/** Where the catalogue sits in a package of templates (not among definitions/*.yaml: those are all workflows). */
export const CATALOG_PATH = 'definitions/catalog/templates.yaml';

/** A package root of templates, opened: `close()` removes what was extracted. */
interface TemplateSource {
  root: string;
  label: string;
  template: string | undefined;
  close: () => void;
}

const TARBALL = /\.(tgz|tar\.gz|tar)$/i;
const hasCatalog = (dir: string) => existsSync(join(dir, ...CATALOG_PATH.split('/')));

/** True when the text names another source than a bundled template: a path, a tarball, a `file:` spec or an npm package. */
export function isTemplateSource(spec: string): boolean {
  return (
    spec.includes('/') ||
    spec.includes('\\') ||
    TARBALL.test(spec) ||
    spec.startsWith('file:') ||
    spec.startsWith('npm:') ||
    existsSync(spec)
  );
}

/** Refuses an extracted tree that holds a symbolic link: a template's files are read from inside it, never through a link. */
function noLinks(dir: string, label: string, depth = 0): void {
  if (depth > 20) throw new UsageError(`${label}: folders nested too deep`, { source: label });
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = lstatSync(full);
    if (st.isSymbolicLink())
      throw new UsageError(
        `${label} holds a symbolic link (${name}): a template package may hold only files and folders`,
        { source: label },
      );
    if (st.isDirectory()) noLinks(full, label, depth + 1);
  }
}

/** The package root of an extracted tarball: `package/` (npm pack), else its one folder, else itself. */
function rootOf(dir: string): string {
  if (hasCatalog(dir)) return dir;
  const entries = readdirSync(dir);
  if (entries.includes('package') && hasCatalog(join(dir, 'package'))) return join(dir, 'package');
  if (entries.length === 1 && statSync(join(dir, entries[0]!)).isDirectory()) return join(dir, entries[0]!);
  return dir;
}

function extract(tarball: string, label: string): { root: string; temp: string } {
  const temp = mkdtempSync(join(tmpdir(), 'lf-templates-'));
  try {
    execFileSync('tar', ['-xf', tarball, '-C', temp, '--no-same-owner', '--no-same-permissions'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    noLinks(temp, label);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot extract ${label}: ${errorMessage(err)}`, { source: label });
  }
  return { root: rootOf(temp), temp };
}

/** `@scope/name[@version][/template]` or `name[@version]/template` (a bare word is a bundled template). */
function npmSpec(spec: string): { pkg: string; template: string | undefined } {
  const parts = spec.replace(/^npm:/, '').split('/');
  const n = parts[0]!.startsWith('@') ? 2 : 1;
  return { pkg: parts.slice(0, n).join('/'), template: parts.length > n ? parts.slice(n).join('/') : undefined };
}

function fromPath(path: string, template: string | undefined, label: string): TemplateSource | null {
  if (!existsSync(path)) return null;
  if (statSync(path).isDirectory()) {
    if (!hasCatalog(path)) return null;
    return { root: resolve(path), label, template, close: () => {} };
  }
  if (!TARBALL.test(path))
    throw new UsageError(
      `${label} is a file but not a tarball (.tgz, .tar.gz, .tar): give a folder of templates, a tarball or an npm package`,
      { source: label },
    );
  const { root, temp } = extract(path, label);
  if (!hasCatalog(root)) {
    rmSync(temp, { recursive: true, force: true });
    throw new UsageError(
      `${label} holds no ${CATALOG_PATH}: a template package has the bundled layout (docs/library.md#templates-from-a-package)`,
      { source: label },
    );
  }
  return { root, label, template, close: () => rmSync(temp, { recursive: true, force: true }) };
}

/** Opens a template source; a UsageError names what is wrong with it. */
export function openTemplateSource(spec: string): TemplateSource {
  const given = spec.replace(/^file:/, '');
  // A path: the whole of it, or its parent with the last part as the template.
  const whole = fromPath(given, undefined, given);
  if (whole) return whole;
  if (given.includes('/') || given.includes('\\')) {
    const parent = fromPath(dirname(given), basename(given), dirname(given));
    if (parent) return parent;
  }
  if (existsSync(given) && statSync(given).isDirectory()) {
    throw new UsageError(
      `${given} holds no ${CATALOG_PATH}: a template package has the bundled layout (docs/library.md#templates-from-a-package)`,
      { source: given },
    );
  }
  if (spec.startsWith('file:') || given.startsWith('.') || given.startsWith('/') || TARBALL.test(given)) {
    throw new UsageError(
      `${given} does not exist: give a folder of templates, a tarball (.tgz) or an npm package name`,
      { source: given },
    );
  }
  const { pkg, template } = npmSpec(spec);
  const temp = mkdtempSync(join(tmpdir(), 'lf-npm-'));
  try {
    const out = execFileSync('npm', ['pack', pkg, '--pack-destination', temp, '--loglevel=error', '--ignore-scripts'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tgz = out.trim().split('\n').pop()!.trim();
    const opened = fromPath(join(temp, basename(tgz)), template, pkg);
    if (!opened) throw new UsageError(`npm pack ${pkg} gave no tarball`, { source: pkg });
    return {
      ...opened,
      close: () => {
        opened.close();
        rmSync(temp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    if (err instanceof UsageError) throw err;
    const said = ((err as { stderr?: string }).stderr ?? '')
      .split('\n')
      .map((l) => l.replace(/^npm (error|ERR!) ?/, '').trim())
      .filter(Boolean)
      .slice(0, 2)
      .join('; ')
      .replace(/\.+$/, '');
    throw new UsageError(
      `cannot fetch the npm package ${pkg}: npm pack ${pkg} failed${said ? `: ${said}` : ''}. Check the name, or give a folder or a .tgz of the templates`,
      { source: pkg },
    );
  }
}
