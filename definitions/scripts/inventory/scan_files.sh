#!/bin/sh
# scan_files: every file under the folder (sorted), with its size and sha256; a receipt at the folder's top
# level (*RECEIPT.yaml, what generate_receipt writes) is the validation's own output and left out.
# Usage: scan_files.sh <folder>    Output (stdout, JSON):
#   { file_list, file_lines, total_files, scan_timestamp, file_manifest: [{path, size, sha256}] }
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || fail "usage: scan_files.sh <folder>" 2
folder=$(from_caller "$1")
[ -d "$folder" ] || fail "target folder $1 does not exist or is not a folder"

files=$(cd "$folder" && find . -type f | sed 's|^\./||' | awk 'tolower($0) !~ /^[^\/]*receipt\.ya?ml$/' | sort)
count=0
manifest=''
while IFS= read -r path; do
  [ -n "$path" ] || continue
  size=$(wc -c < "$folder/$path" | tr -d ' ')
  sum=$(sha256sum < "$folder/$path" | cut -d' ' -f1)
  entry="{\"path\": $(json_str "$path"), \"size\": $size, \"sha256\": \"$sum\"}"
  if [ $count -eq 0 ]; then manifest=$entry; else manifest="$manifest, $entry"; fi
  count=$((count + 1))
done <<LIST
$files
LIST
printf '%s: %d files\n' "$1" "$count" >&2

printf '{"file_list": %s, "file_lines": %s, "total_files": %d, "scan_timestamp": "%s", "file_manifest": [%s]}\n' \
  "$(printf '%s\n' "$files" | json_lines)" "$(json_str "$files")" "$count" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$manifest"
