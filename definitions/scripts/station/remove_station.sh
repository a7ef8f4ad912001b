#!/bin/sh
# remove_station (rollback): removes <target_root>/<station_id>/ if the failed run created it (its .deployment
# marker names that run); a station another run made, or one without a marker (not made by a deployment), is
# left alone and said so. Safe to re-run: a station already gone is nothing to do.
# Usage: remove_station.sh <station_id> <target_root> <failed run id>
# Output (stdout, JSON): { station_path, removed, note }
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || fail "usage: remove_station.sh <station_id> <target_root> <failed run id>" 2
rel="$2/$1"
station=$(from_caller "$2")/$1
out() { printf 'remove %s: %s\n' "$rel" "$2" >&2; printf '{"station_path": %s, "removed": %s, "note": %s}\n' "$(json_str "$rel")" "$1" "$(json_str "$2")"; exit 0; }
valid_station_id "$1" || out false "station_id '$1' is not a station id: no deployment made a station of it"
rm -rf "$(dirname "$station")/.$1.creating.$3"   # what create_folder_structure leaves if it dies before renaming it into place
[ -e "$station" ] || out false "$rel does not exist: nothing to remove"
owner=$(sed -n 's/^run_id=//p' "$station/$MARKER" 2>/dev/null || true)
[ -n "$owner" ] || out false "$rel has no $MARKER marker (no deployment made it): left alone"
[ "$owner" = "$3" ] || out false "$rel was deployed by run $owner, not by the failed run $3: left alone"
rm -rf "$station"
[ ! -e "$station" ] || fail "could not remove $rel"
out true "removed $rel (deployed by the failed run $3)"
