#!/bin/sh
# health_check_verification: checks everything the deployment made, and fails listing every problem found:
# the station and its marker (this run's), each folder, the index naming the station, each deployed policy
# there with the sha256 deploy_policies recorded and usable (it lists required_files, recommended_files or
# forbidden_files), the 1N/0UT config, and the registry's line for the station, registered by this run.
# Usage: health_check_verification.sh <station_id> <target_root> <registry_file or "">
# Environment: DEPLOYED ("<sha256> <name>" per line, from deploy_policies).
# Output (stdout, JSON): { healthy: true, checks, station_path }
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || fail "usage: health_check_verification.sh <station_id> <target_root> <registry_file>" 2
check_station_id "$1"
rel="$2/$1"
station=$(from_caller "$2")/$1
registry=$(registry_of "$2" "$3")
reg=$(from_caller "$registry")
problems='' checks=0
check() { # check <ok: 0|1> <problem>
  checks=$((checks + 1))
  [ "$1" -eq 0 ] || problems="$problems  - $2
"
}
ok() { if "$@"; then echo 0; else echo 1; fi; }

check "$(ok test -d "$station")" "$rel is not there"
check "$(ok grep -sqx "run_id=${LF_RUN_ID:-}" "$station/$MARKER")" "$rel/$MARKER does not name this run (${LF_RUN_ID:-})"
for f in $STATION_FOLDERS; do check "$(ok test -d "$station/$f")" "folder $rel/$f is missing"; done
check "$(ok grep -sqx "  station: \"$1\"" "$station/3OX.INDEX.yaml")" "$rel/3OX.INDEX.yaml is missing or does not name station $1"
check "$(ok test -n "${DEPLOYED:-}")" "no policies were deployed"
while IFS=' ' read -r sum name; do
  [ -n "$name" ] || continue
  file="$station/policies/$name"
  if [ ! -f "$file" ]; then check 1 "policy $rel/policies/$name is missing"; continue; fi
  check "$(ok test "$(sha256sum < "$file" | cut -d' ' -f1)" = "$sum")" "policy $rel/policies/$name differs from what was deployed"
  items=$(awk '
    { sub(/[ \t]+#.*$/, ""); if ($0 ~ /^[ \t]*#/) next }
    /^(required|recommended|forbidden)_files:/ { rest = $0; sub(/^[^:]*:[ \t]*/, "", rest); on = 1
      if (rest ~ /^\[[ \t]*[^] \t]/) { n++; on = 0 } else if (rest != "") on = 0; next }
    /^[^ \t-]/ { on = 0 }
    on && /^[ \t]*-[ \t]+[^ \t]/ { n++ }
    END { print n + 0 }' "$file")
  check "$(ok test "$items" -gt 0)" "policy $rel/policies/$name lists no required_files, recommended_files or forbidden_files"
done <<LIST
${DEPLOYED:-}
LIST
check "$(ok grep -sq '^  folder: "1N.3OX"' "$station/1N0UT.CONFIG.yaml")" "$rel/1N0UT.CONFIG.yaml is missing or names no 1N.3OX inbox"
check "$(ok grep -sq '^  folder: "0UT.3OX"' "$station/1N0UT.CONFIG.yaml")" "$rel/1N0UT.CONFIG.yaml is missing or names no 0UT.3OX outbox"
check "$(ok grep -sqF "{ station: \"$1\"," "$reg")" "registry $registry does not list station $1"
check "$(ok grep -sqF "registered_by: \"${LF_RUN_ID:-}\" }" "$reg")" "registry $registry's entry for $1 was not registered by this run"

if [ -n "$problems" ]; then
  printf 'health check of station %s failed (%d checks):\n%s' "$1" "$checks" "$problems" >&2
  exit 1
fi
printf 'health check of station %s: all %d checks passed\n' "$1" "$checks" >&2
printf '{"healthy": true, "checks": %d, "station_path": %s}\n' "$checks" "$(json_str "$rel")"
