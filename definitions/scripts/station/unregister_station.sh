#!/bin/sh
# unregister_station (rollback): removes the station's line from the CMD.BRIDGE registry if the failed run
# registered it; a line another run registered (the station was deployed before) is left alone and said so.
# Usage: unregister_station.sh <station_id> <target_root> <registry_file or ""> <failed run id>
# Output (stdout, JSON): { registry_file, unregistered, note }
. "$(dirname "$0")/lib.sh"

[ $# -eq 4 ] || fail "usage: unregister_station.sh <station_id> <target_root> <registry_file> <failed run id>" 2
registry=$(registry_of "$2" "$3")
reg=$(from_caller "$registry")
out() { printf 'unregister %s: %s\n' "$1" "$3" >&2; printf '{"registry_file": %s, "unregistered": %s, "note": %s}\n' "$(json_str "$registry")" "$2" "$(json_str "$3")"; exit 0; }
valid_station_id "$1" || out "$1" false "station_id '$1' is not a station id: no deployment registered it"
[ -f "$reg" ] || out "$1" false "registry $registry does not exist: nothing to unregister"
lock_registry "$reg"
line=$(grep -F "{ station: \"$1\"," "$reg" || true)
[ -n "$line" ] || out "$1" false "registry $registry does not list station $1: nothing to unregister"
case $line in
  *"registered_by: \"$4\" }") ;;
  *) out "$1" false "station $1 in $registry was registered by another run: left alone" ;;
esac
registry_without "$reg" "$1" > "$reg.tmp"
mv "$reg.tmp" "$reg"
out "$1" true "removed station $1 from $registry"
