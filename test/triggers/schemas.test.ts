import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { admitEvent, EventTypeFileError, loadTriggerCatalog, parseEventTypeFile } from '../../src/triggers/index.js';
import { ROOT } from '../helpers/cli.js';

function fileError(text: string, name = 'thing'): string {
  try {
    parseEventTypeFile(text, `events/${name}.yaml`, name);
  } catch (err) {
    if (err instanceof EventTypeFileError) return err.message;
    throw err;
  }
  throw new Error('expected an EventTypeFileError');
}

describe('bundled event types', () => {
  const catalog = loadTriggerCatalog({ definitionsDir: join(ROOT, 'definitions'), eventsDir: join(ROOT, 'events') });
  const files = readdirSync(join(ROOT, 'events')).filter((f) => f.endsWith('.yaml'));

  it('ships the trigger events of seed 004 and the incident report of seed 003', () => {
    expect(files.sort()).toEqual([
      'compliance_alerts.yaml',
      'incident_reported.yaml',
      'lead_qualification.yaml',
      'revenue_milestone.yaml',
    ]);
  });
  /** The bundled workflow each event starts, where its id is not the event's type. */
  const starts: Record<string, string> = { incident_reported: 'incident-response' };

  for (const file of files) {
    it(`events/${file}: its sample passes its schema and starts a bundled workflow`, () => {
      const spec = catalog.eventTypes.get(file.replace('.yaml', ''))!;
      expect(spec.description).toBeTruthy();
      const r = admitEvent({ id: 'sample', type: spec.type, time: '2026-11-01T00:00:00Z', data: spec.sample }, catalog);
      expect(r.accepted && r.matches.map((m) => m.definition.id)).toEqual([starts[spec.type] ?? spec.type]);
    });
  }

  it('keeps paths out of the fields that name files', () => {
    const r = admitEvent(
      {
        id: 'x',
        type: 'revenue_milestone',
        time: '2026-11-01T00:00:00Z',
        data: { ...catalog.eventTypes.get('revenue_milestone')!.sample, region: '../../etc' },
      },
      catalog,
    );
    expect(r).toMatchObject({
      accepted: false,
      stage: 'schema',
      problems: [expect.stringMatching(/^data\.region: Invalid string: must match pattern/)],
    });
  });
});

describe('event type files that are refused', () => {
  const body = 'schema: { type: object, required: [n], properties: { n: { type: integer } } }\n';

  it('a file whose type is not its name', () => {
    expect(fileError(`type: other\n${body}`)).toBe(
      'events/thing.yaml: declares type "other" but the file is named for "thing"; the file name must be <type>.yaml',
    );
  });

  it('a file without a schema', () => {
    expect(fileError('type: thing\nsample: {}\n')).toMatch(
      /^events\/thing\.yaml: expected \{ type, description\?, schema: <JSON Schema>, sample\? \}: schema: /,
    );
  });

  it('JSON Schema that cannot be checked', () => {
    expect(
      fileError('type: thing\nschema: { type: object, if: { required: [a] }, then: { required: [b] } }\n'),
    ).toContain('schema is not JSON Schema ledgerflow can check: Conditional schemas (if/then/else) are not supported');
  });

  it('a sample that fails its own schema', () => {
    expect(fileError(`type: thing\n${body}sample: { n: 1.5 }\n`)).toBe(
      'events/thing.yaml: its own sample fails its schema: data.n: expected int, received number',
    );
  });

  it('YAML that does not parse', () => {
    expect(fileError('type: [thing\n')).toMatch(/^events\/thing\.yaml: YAML: /);
  });

  it('reads the bundled files as they are', () => {
    const text = readFileSync(join(ROOT, 'events', 'revenue_milestone.yaml'), 'utf8');
    expect(parseEventTypeFile(text, 'revenue_milestone.yaml', 'revenue_milestone').sample).toMatchObject({
      month: '2026-10',
      currency: 'EUR',
    });
  });
});
