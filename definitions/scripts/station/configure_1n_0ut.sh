#!/bin/sh
# configure_1n_0ut: the station's 1N/0UT protocol: <station>/1N0UT.CONFIG.yaml names its inbox (1N.3OX, where
# task-<workflow_id>-<task_id>.yaml assignments arrive) and outbox (0UT.3OX, where result-<workflow_id>-<task_id>.yaml
# results go) and the bridge it reports to; a README in each says what it is for. Whole each time, no clock.
# Usage: configure_1n_0ut.sh <station_id> <target_root>
# Output (stdout, JSON): { config_file, inbox, outbox }
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || fail "usage: configure_1n_0ut.sh <station_id> <target_root>" 2
check_station_id "$1"
station=$(from_caller "$2")/$1
[ -d "$station/1N.3OX" ] && [ -d "$station/0UT.3OX" ] || fail "station $2/$1 has no 1N.3OX/0UT.3OX folders (create_folder_structure makes them)"
{
  printf '# 1N/0UT protocol of station %s\n' "$1"
  printf 'station: %s\n' "$(json_str "$1")"
  printf 'inbox:\n  folder: "1N.3OX"\n  pattern: "task-{workflow_id}-{task_id}.yaml"\n'
  printf 'outbox:\n  folder: "0UT.3OX"\n  pattern: "result-{workflow_id}-{task_id}.yaml"\n'
  printf 'reports_to: "CMD.BRIDGE"\n'
} > "$station/1N0UT.CONFIG.yaml.tmp"
mv "$station/1N0UT.CONFIG.yaml.tmp" "$station/1N0UT.CONFIG.yaml"
printf 'Inbox of station %s: task assignments (task-<workflow_id>-<task_id>.yaml) arrive here.\n' "$1" > "$station/1N.3OX/README.txt"
printf 'Outbox of station %s: results (result-<workflow_id>-<task_id>.yaml) go here.\n' "$1" > "$station/0UT.3OX/README.txt"
printf 'configured 1N.3OX (inbox) and 0UT.3OX (outbox) of %s/%s\n' "$2" "$1" >&2
printf '{"config_file": %s, "inbox": %s, "outbox": %s}\n' "$(json_str "$2/$1/1N0UT.CONFIG.yaml")" "$(json_str "$2/$1/1N.3OX")" "$(json_str "$2/$1/0UT.3OX")"
