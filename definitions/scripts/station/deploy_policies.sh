#!/bin/sh
# deploy_policies: copies each *.yaml of the policy source into <station>/policies/ (sorted; a re-run copies
# them again), and lists each with its sha256 for the health check.
# Usage: deploy_policies.sh <station_id> <target_root> <policies_dir or "">   ("" = the bundled samples/station/policies)
# Output (stdout, JSON): { deployed: [{name, sha256}], deployed_lines ("<sha256> <name>" per line), count }
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || fail "usage: deploy_policies.sh <station_id> <target_root> <policies_dir>" 2
check_station_id "$1"
station=$(from_caller "$2")/$1
[ -d "$station/policies" ] || fail "station $2/$1 has no policies folder (create_folder_structure makes it)"
if [ -n "$3" ]; then source=$(from_caller "$3"); else source="$(dirname "$0")/../../samples/station/policies"; fi
[ -d "$source" ] || fail "policies_dir ${3:-samples/station/policies} is not a folder"
names=$(cd "$source" && find . -maxdepth 1 -type f -name '*.yaml' | sed 's|^\./||' | sort)
[ -n "$names" ] || fail "policies_dir ${3:-samples/station/policies} holds no *.yaml policy"
lines='' entries='' count=0
while IFS= read -r name; do
  cp "$source/$name" "$station/policies/$name.tmp"
  mv "$station/policies/$name.tmp" "$station/policies/$name"
  sum=$(sha256sum < "$station/policies/$name" | cut -d' ' -f1)
  lines="$lines$sum $name
"
  entry="{\"name\": $(json_str "$name"), \"sha256\": \"$sum\"}"
  if [ $count -eq 0 ]; then entries=$entry; else entries="$entries, $entry"; fi
  count=$((count + 1))
done <<LIST
$names
LIST
printf 'deployed %d policies to %s/%s/policies\n' "$count" "$2" "$1" >&2
printf '{"deployed": [%s], "deployed_lines": %s, "count": %d}\n' "$entries" "$(json_str "$lines")" "$count"
