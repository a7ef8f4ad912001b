#!/bin/sh
# load_policy: the lists of a YAML policy (required_files, recommended_files, forbidden_files),
# written as block lists (`- name`) or flow lists (`[a, b]`).
# Usage: load_policy.sh <policy.yaml>    Output (stdout, JSON):
#   { policy_rules: {required_files, recommended_files, forbidden_files}, required_files,
#     required_lines, recommended_lines, forbidden_lines }   (the *_lines: newline-separated, for the next script)
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || fail "usage: load_policy.sh <policy.yaml>" 2
policy=$(from_caller "$1")
[ -f "$policy" ] || fail "policy file $1 does not exist"

# Lines "<key><TAB><item>" for each item of the three lists.
items=$(awk '
  function unquote(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); if (s ~ /^".*"$/ || s ~ /^'\''.*'\''$/) s = substr(s, 2, length(s) - 2); return s }
  { sub(/[ \t]+#.*$/, ""); if ($0 ~ /^[ \t]*#/) next }
  /^[A-Za-z_]+:/ {
    key = $0; sub(/:.*/, "", key); rest = $0; sub(/^[^:]*:[ \t]*/, "", rest)
    current = (key == "required_files" || key == "recommended_files" || key == "forbidden_files") ? key : ""
    if (current != "" && rest ~ /^\[.*\]$/) {
      rest = substr(rest, 2, length(rest) - 2); n = split(rest, parts, ",")
      for (i = 1; i <= n; i++) { v = unquote(parts[i]); if (v != "") print current "\t" v }
      current = ""
    }
    next
  }
  current != "" && /^[ \t]*-[ \t]+/ { v = $0; sub(/^[ \t]*-[ \t]+/, "", v); v = unquote(v); if (v != "") print current "\t" v; next }
  /^[^ \t]/ { current = "" }
' "$policy")

list() { printf '%s\n' "$items" | awk -F '\t' -v k="$1" '$1 == k { print $2 }'; }
required=$(list required_files)
recommended=$(list recommended_files)
forbidden=$(list forbidden_files)
[ -n "$required$recommended$forbidden" ] || fail "policy $1 lists no required_files, recommended_files or forbidden_files" 3

req_json=$(printf '%s\n' "$required" | json_lines)
printf '{"policy_rules": {"required_files": %s, "recommended_files": %s, "forbidden_files": %s}, "required_files": %s, "required_lines": %s, "recommended_lines": %s, "forbidden_lines": %s}\n' \
  "$req_json" "$(printf '%s\n' "$recommended" | json_lines)" "$(printf '%s\n' "$forbidden" | json_lines)" "$req_json" \
  "$(json_str "$required")" "$(json_str "$recommended")" "$(json_str "$forbidden")"
