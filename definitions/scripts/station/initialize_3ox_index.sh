#!/bin/sh
# initialize_3ox_index: writes <station>/3OX.INDEX.yaml, the station's index: its id, the run that deployed it,
# its folders and the files the deployment puts there. Whole each time (a re-run rewrites it), no clock.
# Usage: initialize_3ox_index.sh <station_id> <target_root>
# Output (stdout, JSON): { index_file, entries }
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || fail "usage: initialize_3ox_index.sh <station_id> <target_root>" 2
check_station_id "$1"
station=$(from_caller "$2")/$1
[ -d "$station" ] || fail "station $2/$1 does not exist (create_folder_structure makes it)"
{
  printf '# 3OX index of station %s (written by %s)\n' "$1" "${LF_WORKFLOW_ID:-station-deployment}"
  printf 'index:\n'
  printf '  station: %s\n' "$(json_str "$1")"
  printf '  deployed_by_run: %s\n' "$(json_str "${LF_RUN_ID:-}")"
  printf '  folders: %s\n' "$(printf '%s\n' $STATION_FOLDERS | json_lines)"
  printf '  inbox: "1N.3OX"\n'
  printf '  outbox: "0UT.3OX"\n'
  printf '  config: "1N0UT.CONFIG.yaml"\n'
  printf '  policies: "policies"\n'
} > "$station/3OX.INDEX.yaml.tmp"
mv "$station/3OX.INDEX.yaml.tmp" "$station/3OX.INDEX.yaml"
printf 'index written to %s/%s/3OX.INDEX.yaml\n' "$2" "$1" >&2
printf '{"index_file": %s, "entries": %d}\n' "$(json_str "$2/$1/3OX.INDEX.yaml")" "$(set -- $STATION_FOLDERS; echo $#)"
