#!/bin/sh
# preflight: checks before anything is written. The station id is valid; the target root is a writable
# folder (or can be made in a writable one); the station is not there yet (unless this run made it: a
# re-run after a crash); the policy source holds at least one *.yaml; the registry, if there, is writable.
# Usage: preflight.sh <station_id> <target_root> <policies_dir or ""> <registry_file or "">
# Output (stdout, JSON): { station_id, station_path, policies_source, policies, registry_file }
. "$(dirname "$0")/lib.sh"

[ $# -eq 4 ] || fail "usage: preflight.sh <station_id> <target_root> <policies_dir> <registry_file>" 2
check_station_id "$1"
station_id=$1 target=$2
[ -n "$target" ] || fail "target_root is empty: name the folder stations are deployed under" 2
root=$(from_caller "$target")
if [ -e "$root" ]; then
  [ -d "$root" ] || fail "target_root $target is not a folder"
  [ -w "$root" ] || fail "target_root $target is not writable"
else
  parent=$(dirname "$root")
  [ -d "$parent" ] && [ -w "$parent" ] || fail "target_root $target does not exist and its parent $(dirname "$target") is not a writable folder"
fi
station="$root/$station_id"
if [ -e "$station" ]; then
  owner=$(sed -n 's/^run_id=//p' "$station/$MARKER" 2>/dev/null || true)
  [ "$owner" = "${LF_RUN_ID:-}" ] || fail "station $target/$station_id already exists$( [ -n "$owner" ] && printf ' (deployed by run %s)' "$owner"): choose another station_id or remove it first" 3
fi
if [ -n "$3" ]; then source_given=$3; source=$(from_caller "$3"); else source_given="(bundled) samples/station/policies"; source="$(dirname "$0")/../../samples/station/policies"; fi
[ -d "$source" ] || fail "policies_dir $source_given is not a folder"
policies=$(cd "$source" && find . -maxdepth 1 -type f -name '*.yaml' | sed 's|^\./||' | sort)
[ -n "$policies" ] || fail "policies_dir $source_given holds no *.yaml policy"
registry=$(registry_of "$target" "$4")
reg=$(from_caller "$registry")
if [ -e "$reg" ]; then [ -f "$reg" ] && [ -w "$reg" ] || fail "registry $registry is not a writable file"; fi
printf 'preflight: station %s under %s, %d policies from %s, registry %s\n' "$station_id" "$target" "$(printf '%s\n' "$policies" | wc -l)" "$source_given" "$registry" >&2
printf '{"station_id": %s, "station_path": %s, "policies_source": %s, "policies": %s, "registry_file": %s}\n' \
  "$(json_str "$station_id")" "$(json_str "$target/$station_id")" "$(json_str "$source_given")" "$(printf '%s\n' "$policies" | json_lines)" "$(json_str "$registry")"
