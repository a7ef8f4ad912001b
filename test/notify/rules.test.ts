/**
 * Which notifications a run's events make due (pure), from recorded golden
 * histories: the same ids however the events are grouped into commits, what
 * a history still owes once some are noted, and the rules' language (in a
 * definition and in a global file) refused with file:line:col.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition, type NotificationRule } from '../../src/definition/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { dueNotifications, parseNotificationsFile, pendingDeliveries, webhookKey } from '../../src/notify/index.js';
import { summarize } from '../../src/store/common.js';
import { replayRun } from '../../src/runtime/index.js';
import { HISTORIES_DIR } from '../fixtures/histories/histories.js';

function history(file: string): EventEnvelope[] {
  return readFileSync(join(HISTORIES_DIR, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
}

/** incident-response: collect_evidence fails twice (attempt 2 at seq 11), the run FAILED at seq 12. */
const FAILED_AFTER_RETRY =
  'incident-response/route-default-to-collect_evidence-fails-after-2-attempts-to-run-FAILED.jsonl';
/** revenue_milestone on NATS: WAITING for approval at seq 5, a refused approval (6), COMPLETED at 9, a refused approval after settling (10). */
const APPROVAL = 'revenue_milestone/scenario-nats-approval-refused.jsonl';

const hook = 'https://hooks.example/ops?token=s3cret';
const rule = (r: Partial<NotificationRule> & Pick<NotificationRule, 'on'>): NotificationRule => ({
  nats: false,
  webhook: hook,
  ...r,
});

describe('which notifications a run makes due', () => {
  it('names a FAILED run and a task retried, each once, with ids from the run, the event and the status', () => {
    const events = history(FAILED_AFTER_RETRY);
    const due = dueNotifications([rule({ on: ['FAILED', 'RETRIED', 'COMPLETED'], retriedAtLeast: 2 })], null, events);
    expect(due.map((d) => [d.id, d.on, d.task, d.attempt])).toEqual([
      ['lf-path/11/RETRIED', 'RETRIED', 'collect_evidence', 2],
      ['lf-path/12/FAILED', 'FAILED', undefined, undefined],
    ]);
    expect(due[1]!.time).toBe(events[11]!.time);
    expect(due[1]!.targets).toEqual([{ kind: 'webhook', url: hook, headers: {}, key: webhookKey(hook) }]);
    // The key names the origin, never the secret in the query.
    expect(webhookKey(hook)).toMatch(/^webhook:https:\/\/hooks\.example#[0-9a-f]{16}$/);
    // retried_at_least 3: attempt 2 is not enough.
    expect(dueNotifications([rule({ on: ['RETRIED'], retriedAtLeast: 3 })], null, events)).toEqual([]);
  });

  it('gives the same notifications however the events were grouped into commits', () => {
    const events = history(APPROVAL);
    const rules = [
      rule({ on: ['WAITING', 'COMPLETED', 'FAILED'] }),
      { on: ['COMPLETED'], nats: true } as NotificationRule,
    ];
    const whole = dueNotifications(rules, null, events);
    const runId = events[0]!.runId;
    expect(whole.map((d) => [d.id, d.targets.map((t) => t.key)])).toEqual([
      [`${runId}/5/WAITING`, [webhookKey(hook)]],
      [`${runId}/9/COMPLETED`, [webhookKey(hook), 'nats:lf.notify.revenue_milestone.COMPLETED']],
    ]);
    for (let cut = 1; cut < events.length; cut++) {
      const first = dueNotifications(rules, null, events.slice(0, cut));
      const rest = dueNotifications(rules, events[cut - 1]!.state.status, events.slice(cut));
      expect([...first, ...rest]).toEqual(whole);
    }
  });

  it('owes what the history does not note, and nothing once each target is noted (sent or dead-lettered)', () => {
    const events = history(FAILED_AFTER_RETRY);
    const rules = [
      rule({ on: ['FAILED', 'RETRIED'], retriedAtLeast: 2 }),
      { on: ['FAILED'], nats: true } as NotificationRule,
    ];
    const owed = pendingDeliveries(rules, events);
    expect(owed.map((p) => `${p.notification.id} ${p.target.kind}`)).toEqual([
      'lf-path/11/RETRIED webhook',
      'lf-path/12/FAILED webhook',
      'lf-path/12/FAILED nats',
    ]);
    // On the embedded store NATS targets are not this driver's to deliver.
    expect(pendingDeliveries(rules, events, (t) => t.kind === 'webhook')).toHaveLength(2);
    const last = events.at(-1)!;
    const note = (
      seq: number,
      type: 'notification.sent' | 'notification.dead_lettered',
      id: string,
      target: string,
    ): EventEnvelope =>
      ({
        ...last,
        seq,
        time: '2026-01-01T00:10:00.000Z',
        ...(type === 'notification.sent'
          ? { type, data: { id, on: 'FAILED', seq: 12, target, attempts: 1, statusCode: 200, stateTime: last.time } }
          : {
              type,
              data: { id, on: 'FAILED', seq: 12, target, attempts: 5, error: 'HTTP 503', stateTime: last.time },
            }),
      }) as EventEnvelope;
    const noted = [
      ...events,
      note(13, 'notification.sent', 'lf-path/12/FAILED', webhookKey(hook)),
      note(14, 'notification.dead_lettered', 'lf-path/11/RETRIED', webhookKey(hook)),
    ];
    expect(pendingDeliveries(rules, noted).map((p) => `${p.notification.id} ${p.target.kind}`)).toEqual([
      'lf-path/12/FAILED nats',
    ]);
    // Notes change no state: the history replays, and its summary keeps the time the run settled.
    expect(replayRun(noted).divergence).toBeNull();
    expect(summarize(noted[0]!, noted.at(-1)!).completedAt).toBe(last.time);
    expect(summarize(events[0]!, last).completedAt).toBe(last.time);
  });
});

describe('the notifications: language', () => {
  it('refuses a rule without a target, an unknown status, a non-http URL, retried_at_least without RETRIED, with file:line:col', () => {
    const { definition, diagnostics } = parseDefinition(
      `workflow:
  id: n
  notifications:
    - on: [FAILED, BROKEN]
      webhook: ftp://hooks.example/x
    - on: COMPLETED
      retried_at_least: 3
      nats: true
    - on: WAITING
  tasks:
    - { id: a, type: SIMPLE }
`,
      'n.yaml',
    );
    expect(definition).toBeNull();
    expect(diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      expect.stringMatching(/^4:11 .*"BROKEN" is not a status to notify on/),
      expect.stringMatching(/^5:16 .*expected an absolute http:\/\/ or https:\/\/ URL/),
      expect.stringMatching(/^7:25 .*retried_at_least applies to RETRIED only/),
      expect.stringMatching(/^9:7 .*a notification needs a target/),
    ]);
  });

  it('keeps a definition without notifications as it was (same shape, same hash), and normalises one with them', () => {
    const { definition } = parseDefinition('workflow:\n  id: n\n  tasks:\n    - { id: a, type: SIMPLE }\n');
    expect(definition && 'notifications' in definition).toBe(false);
    const withRules = parseDefinition(`workflow:
  id: n
  notifications:
    - on: RETRIED
      webhook: http://127.0.0.1:9/x
      headers: { X-Team: ops }
  tasks:
    - { id: a, type: SIMPLE }
`).definition;
    expect(withRules?.notifications).toEqual([
      {
        on: ['RETRIED'],
        retriedAtLeast: 2,
        nats: false,
        webhook: 'http://127.0.0.1:9/x',
        headers: { 'X-Team': 'ops' },
      },
    ]);
  });

  it('reads a global file (list or notifications: + delivery:) and refuses a bad one with file:line:col', () => {
    expect(parseNotificationsFile('- on: FAILED\n  nats: true\n', 'g.yaml').rules).toEqual([
      { on: ['FAILED'], nats: true },
    ]);
    const cfg = parseNotificationsFile(
      'notifications:\n  - on: [COMPLETED]\n    webhook: https://h.example/\ndelivery: { attempts: 2, backoff: 10ms, timeout: 1s }\n',
      'g.yaml',
    );
    expect(cfg.delivery).toEqual({ attempts: 2, backoffMs: 10, maxBackoffMs: 60_000, timeoutMs: 1000 });
    expect(() =>
      parseNotificationsFile('notifications:\n  - on: [COMPLETED]\n    webhook: "javascript:alert(1)"\n', 'g.yaml'),
    ).toThrow(/g\.yaml:3:14: notifications\[0\]\.webhook: expected an absolute http/);
    expect(() => parseNotificationsFile('notifications: []\ndelivery: { attempts: 0 }\n', 'g.yaml')).toThrow(
      /g\.yaml:2:23: delivery\.attempts: expected at least 1 try/,
    );
  });
});

describe('a run QUEUED for a concurrency slot', () => {
  it('is notified WAITING when it is admitted, not at the start it only waited through', () => {
    const base = { runId: 'q', workflowId: 'invoice', version: 1 };
    const ev = (seq: number, type: string, status: string, data: unknown) =>
      ({
        ...base,
        seq,
        time: `2026-01-01T09:0${seq}:00.000Z`,
        state: { status, hash: 'h' },
        type,
        data,
      }) as unknown as EventEnvelope;
    const events = [
      ev(1, 'run.started', 'WAITING', { input: {} }),
      ev(2, 'run.queued', 'QUEUED', { priority: 50, key: null, limit: 1, holds: true }),
      ev(3, 'run.admitted', 'WAITING', {}),
    ];
    const due = dueNotifications([rule({ on: ['WAITING'] })], null, events);
    expect(due.map((d) => d.id)).toEqual(['q/3/WAITING']);
  });
});
