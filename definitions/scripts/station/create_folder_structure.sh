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
  # Made beside it with the marker inside, then renamed into place: a station never exists without its marker,
  # even when the process dies half-way (a re-run of the attempt starts the temporary folder again).
  mkdir -p "$(dirname "$station")"
  tmp="$(dirname "$station")/.$1.creating.${LF_RUN_ID:-manual}"
  rm -rf "$tmp"
  mkdir "$tmp"
  printf 'run_id=%s\nworkflow=%s\n' "${LF_RUN_ID:-}" "${LF_WORKFLOW_ID:-}" > "$tmp/$MARKER"
  # -T (GNU coreutils): never into a station another deployment made meanwhile.
  mv -T "$tmp" "$station" 2>/dev/null || { rm -rf "$tmp"; fail "station $2/$1 appeared while this run was creating it (another deployment?)" 3; }
fi
for f in $STATION_FOLDERS; do mkdir -p "$station/$f"; done
printf 'created %s/%s: %s\n' "$2" "$1" "$STATION_FOLDERS" >&2
printf '{"station_path": %s, "folders": %s}\n' "$(json_str "$2/$1")" "$(printf '%s\n' $STATION_FOLDERS | json_lines)"
