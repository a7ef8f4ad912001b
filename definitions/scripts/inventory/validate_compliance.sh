#!/bin/sh
# validate_compliance: the files found against the policy. A required file missing or a forbidden
# one present is FAIL_STRICT; only recommended ones missing is FAIL_SOFT; else PASS. A policy name
# matches a path or a file's base name.
# Environment (newline-separated lists): FILES, REQUIRED, RECOMMENDED, FORBIDDEN.
# Output (stdout, JSON): { compliance_status, violations, compliance_score, checked_files, violation_lines }
. "$(dirname "$0")/lib.sh"

export FILES="${FILES:-}" REQUIRED="${REQUIRED:-}" RECOMMENDED="${RECOMMENDED:-}" FORBIDDEN="${FORBIDDEN:-}"
result=$(awk '
  function lines(s, arr,   n, i, parts, k) { n = split(s, parts, "\n"); k = 0; for (i = 1; i <= n; i++) if (parts[i] != "") arr[++k] = parts[i]; return k }
  function present(name) { return (name in files) || (name in bases) }
  BEGIN {
    nf = lines(ENVIRON["FILES"], f)
    for (i = 1; i <= nf; i++) { files[f[i]] = 1; b = f[i]; sub(/.*\//, "", b); bases[b] = 1 }
    nr = lines(ENVIRON["REQUIRED"], req); nc = lines(ENVIRON["RECOMMENDED"], rec); nx = lines(ENVIRON["FORBIDDEN"], forb)
    strict = 0; soft = 0; nv = 0
    for (i = 1; i <= nr; i++) if (!present(req[i])) { v[++nv] = req[i] " missing"; strict++ }
    for (i = 1; i <= nx; i++) if (present(forb[i])) { v[++nv] = forb[i] " is forbidden"; strict++ }
    for (i = 1; i <= nc; i++) if (!present(rec[i])) { v[++nv] = rec[i] " missing (recommended)"; soft++ }
    status = strict > 0 ? "FAIL_STRICT" : soft > 0 ? "FAIL_SOFT" : "PASS"
    checks = nr + nc + nx
    score = checks > 0 ? int(100 * (checks - nv) / checks + 0.5) : 100
    print status; print score; print nf
    for (i = 1; i <= nv; i++) print v[i]
  }')
status=$(printf '%s\n' "$result" | sed -n 1p)
score=$(printf '%s\n' "$result" | sed -n 2p)
checked=$(printf '%s\n' "$result" | sed -n 3p)
lines=$(printf '%s\n' "$result" | sed -n '4,$p')
printf '{"compliance_status": "%s", "violations": %s, "compliance_score": %d, "checked_files": %d, "violation_lines": %s}\n' \
  "$status" "$(printf '%s\n' "$lines" | json_lines)" "$score" "$checked" "$(json_str "$lines")"
