#!/bin/sh
# register_with_cmd_bridge: adds (or replaces) the station's line in the CMD.BRIDGE registry, under a lock so
# concurrent deployments do not lose each other's entries (a held lock fails the attempt retryably), written
# to a temporary file and renamed into place.
# Usage: register_with_cmd_bridge.sh <station_id> <target_root> <registry_file or "">
# Output (stdout, JSON): { registry_file, station, registered_by, stations }
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || fail "usage: register_with_cmd_bridge.sh <station_id> <target_root> <registry_file>" 2
check_station_id "$1"
station=$(from_caller "$2")/$1
[ -f "$station/3OX.INDEX.yaml" ] || fail "station $2/$1 has no 3OX.INDEX.yaml to register"
path=$(cd "$station" && pwd -P)
registry=$(registry_of "$2" "$3")
reg=$(from_caller "$registry")
lock_registry "$reg"
{
  registry_without "$reg" "$1"
  printf '  - { station: "%s", path: %s, index: "3OX.INDEX.yaml", registered_by: %s }\n' "$1" "$(json_str "$path")" "$(json_str "${LF_RUN_ID:-}")"
} > "$reg.tmp"
mv "$reg.tmp" "$reg"
stations=$(grep -c '^  - { station: ' "$reg" || true)
printf 'registered %s in %s (%s stations)\n' "$1" "$registry" "$stations" >&2
printf '{"registry_file": %s, "station": %s, "registered_by": %s, "stations": %d}\n' "$(json_str "$registry")" "$(json_str "$1")" "$(json_str "${LF_RUN_ID:-}")" "$stations"
