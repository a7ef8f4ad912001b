# Shared by the station deployment and rollback scripts (POSIX sh, Debian's standard tools).
# Sourced, not run: `. "$(dirname "$0")/lib.sh"`.
set -eu
export LC_ALL=C

# Relative paths in inputs are meant from where ledgerflow was started (LF_INIT_CWD), not from
# this script's working directory (the definition's directory).
from_caller() {
  case $1 in
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "${LF_INIT_CWD:-.}" "$1" ;;
  esac
}

# A JSON string: backslash, quote and control characters escaped.
json_str() {
  printf '%s' "$1" | awk 'BEGIN { ORS = ""; print "\"" }
    NR > 1 { print "\\n" }
    { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r"); print }
    END { print "\"" }'
}

# A JSON list of strings from lines on stdin (empty lines skipped).
json_lines() {
  first=1
  printf '['
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    if [ $first -eq 1 ]; then first=0; else printf ', '; fi
    json_str "$line"
  done
  printf ']'
}

# Fails the attempt: the message goes to stderr (quoted in the run's history), exit 1 or the given code.
fail() {
  printf '%s\n' "$1" >&2
  exit "${2:-1}"
}

# A station id names a folder and a registry entry: letters, digits, '.', '_' and '-', not starting with '.'.
valid_station_id() {
  case $1 in
    '' | .* | *[!A-Za-z0-9._-]*) return 1 ;;
  esac
}
check_station_id() {
  valid_station_id "$1" || fail "station_id '$1' is not a station id: use letters, digits, '.', '_' and '-' (not starting with '.'), e.g. STATION-07" 2
}

# The station's folders, in creation order (1N.3OX inbox, 0UT.3OX outbox: the 1N/0UT protocol).
STATION_FOLDERS='1N.3OX 0UT.3OX policies logs workspace'
# Written first into a new station: which run deployed it. The rollback removes only a station whose marker names the failed run.
MARKER=.deployment

# The registry file (as given, relative to LF_INIT_CWD): registry_file, else <target_root>/CMD.BRIDGE/STATIONS.REGISTRY.yaml.
registry_of() {
  if [ -n "${2:-}" ]; then printf '%s' "$2"; else printf '%s/CMD.BRIDGE/STATIONS.REGISTRY.yaml' "$1"; fi
}

# Takes the registry's lock (a directory: mkdir is atomic) or fails retryably; released on exit.
lock_registry() {
  lock="$1.lock"
  mkdir -p "$(dirname "$1")"
  if ! mkdir "$lock" 2>/dev/null; then
    fail "registry $1 is locked by another deployment or rollback ($lock); the attempt is retried. A lock left by a killed process: remove $lock"
  fi
  trap 'rmdir "$lock" 2>/dev/null || true' EXIT
}

# The registry's lines without the entry of station $2 (the file $1 may not exist yet).
registry_without() {
  if [ -f "$1" ]; then awk -v s="$2" 'index($0, "{ station: \"" s "\",") == 0' "$1"; else printf '# CMD.BRIDGE station registry: one line per station, written by station-deployment and station-rollback.\nstations:\n'; fi
}
