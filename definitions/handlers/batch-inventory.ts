/**
 * Handlers of the batch inventory validation (definitions/batch-inventory-validation.yaml):
 * the policy once, then per folder the single validation's own functions
 * (handlers/inventory.ts: scanFolder, validate, writeReceipt), then one
 * summary. Deterministic: sorted listings, content hashes, no clock.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NonRetryableError } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';
import { loadPolicy, RECEIPT_NAME, scanFolder, validate, writeReceipt, type PolicyRules, type Validation } from './inventory.js';

interface FolderResult extends Validation { folder: string; receipt_file: string | null }

const STATUSES = ['PASS', 'FAIL_SOFT', 'FAIL_STRICT'] as const;

const handlers: Handlers = {
  async load_policy(input) {
    return { policy_rules: await loadPolicy(String(input.policy ?? '')) };
  },

  async list_folders(input, ctx) {
    const parent = String(input.parent ?? '');
    const info = await stat(parent).catch(() => null);
    if (!info?.isDirectory()) throw new NonRetryableError(`parent folder ${parent} does not exist or is not a folder`, 'BAD_PARENT');
    const folders = (await readdir(parent, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort()
      .map((name) => join(parent, name));
    ctx.log(`${folders.length} folders under ${parent}`);
    return { folders, count: folders.length };
  },

  async validate_folder(input, ctx) {
    const folder = String(input.folder ?? '');
    const { files } = await scanFolder(folder, ctx.signal);
    const result = validate(files, input.rules as PolicyRules);
    const receipt_file = input.write_receipt === false ? null : await writeReceipt(folder, RECEIPT_NAME, {
      workflow: ctx.workflowId, run_id: ctx.runId, idempotency_key: ctx.idempotencyKey, ...result,
    });
    ctx.log(`${folder}: ${result.compliance_status} (${files.length} files${result.violations.length ? `; ${result.violations.join(', ')}` : ''})`);
    return { folder, ...result, receipt_file } satisfies FolderResult;
  },

  summarize(input, ctx) {
    // A folder whose item did not complete has null here (a MAP fails before that unless it tolerates failures).
    const results = ((input.results ?? []) as (FolderResult | null)[]).filter((r): r is FolderResult => r !== null);
    const counts = Object.fromEntries(STATUSES.map((s) => [s, results.filter((r) => r.compliance_status === s).length])) as Record<(typeof STATUSES)[number], number>;
    const overall_status = counts.FAIL_STRICT > 0 ? 'FAIL_STRICT' : counts.FAIL_SOFT > 0 ? 'FAIL_SOFT' : 'PASS';
    const per_folder = results.map((r) => ({
      folder: r.folder, status: r.compliance_status, score: r.compliance_score, files: r.checked_files, violations: r.violations, receipt: r.receipt_file,
    }));
    const report = `inventory-reports/batch-${ctx.runId}.yaml`;
    ctx.log(`${results.length} folders: ${counts.PASS} pass, ${counts.FAIL_SOFT} soft failures, ${counts.FAIL_STRICT} strict failures`);
    return {
      parent: input.parent,
      policy_file: input.policy_file,
      overall_status,
      folders: results.length,
      counts,
      total_files: results.reduce((n, r) => n + r.checked_files, 0),
      total_violations: results.reduce((n, r) => n + r.violations.length, 0),
      per_folder,
      report,
    };
  },
};

export default handlers;
