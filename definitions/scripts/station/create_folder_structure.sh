#!/bin/sh
# create_folder_structure: <target_root>/<station_id>/ with its folders (1N.3OX, 0UT.3OX, policies, logs,
# workspace) and the .deployment marker naming this run, written first (the rollback removes only a station
# whose marker names the failed run). Safe to re-run for the same run; refuses a station another run made.
# Usage: create_folder_structure.sh <station_id> <target_root>
# Output (stdout, JSON): { station_path, folders }
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || fail "usage: create_folder_structure.sh <station_id> <target_root>" 2
check_station_id "$1"
station=$(from_caller "$2")/$1
if [ -e "$station" ]; then
  owner=$(sed -n 's/^run_id=//p' "$station/$MARKER" 2>/dev/null || true)
  [ "$owner" = "${LF_RUN_ID:-}" ] || fail "station $2/$1 already exists and this run did not make it" 3
else
  mkdir -p "$(dirname "$station")"
  mkdir "$station"
  printf 'run_id=%s\nworkflow=%s\n' "${LF_RUN_ID:-}" "${LF_WORKFLOW_ID:-}" > "$station/$MARKER"
fi
for f in $STATION_FOLDERS; do mkdir -p "$station/$f"; done
printf 'created %s/%s: %s\n' "$2" "$1" "$STATION_FOLDERS" >&2
printf '{"station_path": %s, "folders": %s}\n' "$(json_str "$2/$1")" "$(printf '%s\n' $STATION_FOLDERS | json_lines)"
