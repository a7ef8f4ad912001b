#!/bin/sh
# generate_receipt: writes <target folder>/VALIDATION.RECEIPT.yaml, naming the folder (as the TypeScript
# handler does), so runs over different folders never overwrite each other's; whole each time, so a re-run of
# the same attempt rewrites it. scan_files leaves it out of the inventory.
# Usage: generate_receipt.sh <target folder>
# Environment: STATUS, SCORE, CHECKED, VIOLATIONS (newline-separated), SCANNED_AT; LF_* from ledgerflow.
# Output (stdout, JSON): { validation_receipt, receipt_file, compliance_status }
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || fail "usage: generate_receipt.sh <target folder>" 2
given=$1
while [ "${given%/}" != "$given" ] && [ "$given" != / ]; do given=${given%/}; done
target="$given/VALIDATION.RECEIPT.yaml"
dir=$(from_caller "$given")
mkdir -p "$dir"
{
  printf 'receipt:\n'
  printf '  workflow: %s\n' "$(json_str "${LF_WORKFLOW_ID:-}")"
  printf '  run_id: %s\n' "$(json_str "${LF_RUN_ID:-}")"
  printf '  idempotency_key: %s\n' "$(json_str "${LF_IDEMPOTENCY_KEY:-}")"
  printf '  folder: %s\n' "$(json_str "$1")"
  printf '  scanned_at: %s\n' "$(json_str "${SCANNED_AT:-}")"
  printf '  compliance_status: %s\n' "$(json_str "${STATUS:-}")"
  printf '  compliance_score: %s\n' "${SCORE:-null}"
  printf '  violations: %s\n' "$(printf '%s\n' "${VIOLATIONS:-}" | json_lines)"
  printf '  checked_files: %s\n' "${CHECKED:-null}"
} > "$dir/VALIDATION.RECEIPT.yaml.tmp"
mv "$dir/VALIDATION.RECEIPT.yaml.tmp" "$dir/VALIDATION.RECEIPT.yaml"
printf 'receipt written to %s\n' "$target" >&2
printf '{"validation_receipt": %s, "receipt_file": %s, "compliance_status": %s}\n' "$(json_str "$target")" "$(json_str "$target")" "$(json_str "${STATUS:-}")"
