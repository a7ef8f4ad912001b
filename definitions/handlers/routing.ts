/**
 * Handlers of the file-routing workflow (definitions/file-routing.yaml,
 * 1N→0UT routing): read an inbox, match each file to a station by the
 * routing table, deliver each to its station's outbox. Deterministic (files
 * in sorted order, no clock), and confined: every path stays inside the
 * folder the input names, a file name with a separator or `..` is refused.
 *
 *   process_inbound    the inbox's files: name, size, sha256
 *   validate_schema    each file's station (first matching route), the files
 *                      no route takes or larger than max_bytes, REVIEW/CLEAR
 *   route_to_station   copies (or moves) each routed file to
 *                      <stations>/<station>/0UT.3OX/, the unrouted ones too
 *                      when the commander approved (to CMD.BRIDGE), and
 *                      writes <stations>/ROUTING.RECEIPT.yaml
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { NonRetryableError, parseYaml as parse, stringifyYaml as stringify } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

interface InboundFile { name: string; size: number; sha256: string }
interface Route { match: string; station: string }

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'ROUTING_BAD_INPUT');
  return v;
}

/** A file or station name that is one path segment: nothing that leaves its folder. */
function segment(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '' || name !== basename(name) || name === '.' || name === '..' || name.includes('\\')) {
    throw new NonRetryableError(`${what} ${JSON.stringify(name)} is not a plain name (no folders, no ..)`, 'ROUTING_BAD_NAME');
  }
  return name;
}

/** `*` any run of characters, `?` one: the routing table's patterns, as a RegExp over the whole name. */
function matcher(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

async function loadRoutes(file: string): Promise<Route[]> {
  let doc: unknown;
  try {
    doc = parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new NonRetryableError(`cannot read the routing table ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'ROUTING_NO_TABLE');
  }
  const routes = (doc as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) throw new NonRetryableError(`${file}: expected routes: [{ match: "*.csv", station: STATION-01 }]`, 'ROUTING_BAD_TABLE');
  return routes.map((r, i) => {
    const { match, station } = (r ?? {}) as Record<string, unknown>;
    if (typeof match !== 'string' || match === '') throw new NonRetryableError(`${file}: routes[${i}].match must be a file-name pattern`, 'ROUTING_BAD_TABLE');
    return { match, station: segment(station, `${file}: routes[${i}].station`) };
  });
}

export const handlers: Handlers = {
  async process_inbound(input) {
    const inbox = text(input, 'inbox');
    let names: string[];
    try {
      names = (await readdir(inbox, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
    } catch (err) {
      throw new NonRetryableError(`cannot read the inbox ${inbox}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'ROUTING_NO_INBOX');
    }
    const files: InboundFile[] = [];
    for (const name of names) {
      const body = await readFile(join(inbox, name));
      files.push({ name, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    }
    return { files, count: files.length };
  },

  async validate_schema(input) {
    const routes = await loadRoutes(text(input, 'routes'));
    const max = typeof input.max_bytes === 'number' ? input.max_bytes : Number.POSITIVE_INFINITY;
    const files = (Array.isArray(input.files) ? input.files : []) as InboundFile[];
    const routed: { file: string; station: string }[] = [];
    const unrouted: { file: string; why: string }[] = [];
    for (const f of files) {
      const route = routes.find((r) => matcher(r.match).test(f.name));
      if (!route) unrouted.push({ file: f.name, why: 'no route matches' });
      else if (f.size > max) unrouted.push({ file: f.name, why: `${f.size} bytes, over ${max}` });
      else routed.push({ file: f.name, station: route.station });
    }
    return { routed, unrouted, review: unrouted.length > 0 ? 'REVIEW' : 'CLEAR' };
  },

  async route_to_station(input) {
    const inbox = text(input, 'inbox');
    const stations = text(input, 'stations');
    const move = input.mode === 'move';
    if (input.mode !== 'copy' && !move) throw new NonRetryableError(`mode must be copy or move, got ${JSON.stringify(input.mode)}`, 'ROUTING_BAD_INPUT');
    const routed = (Array.isArray(input.routed) ? input.routed : []) as { file: string; station: string }[];
    const unrouted = (Array.isArray(input.unrouted) ? input.unrouted : []) as { file: string; why: string }[];
    // The commander approved the files no route takes: they go to the bridge's outbox; otherwise they stay in the inbox.
    const approved = input.commander === 'COMPLETED';
    const deliveries = [...routed, ...(approved ? unrouted.map((u) => ({ file: u.file, station: 'CMD.BRIDGE' })) : [])];
    const delivered: Record<string, string[]> = {};
    for (const d of deliveries) {
      const file = segment(d.file, 'file');
      const outbox = join(stations, segment(d.station, 'station'), '0UT.3OX');
      await mkdir(outbox, { recursive: true });
      await copyFile(join(inbox, file), join(outbox, file));
      if (move) await rm(join(inbox, file));
      (delivered[d.station] ??= []).push(file);
    }
    const held = approved ? [] : unrouted.map((u) => u.file);
    const receipt = join(stations, 'ROUTING.RECEIPT.yaml');
    await mkdir(stations, { recursive: true });
    await writeFile(receipt, stringify({ routing: { inbox, mode: move ? 'move' : 'copy', delivered, held, commander: approved ? 'approved' : unrouted.length > 0 ? 'not asked or no answer' : 'not needed' } }));
    await stat(receipt);
    return { delivered: deliveries.length, held, receipt, stations: delivered };
  },
};

export default handlers;
