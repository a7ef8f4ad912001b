# Shared by the inventory validation scripts (POSIX sh, Debian's standard tools).
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

# Fails the attempt: the message goes to stderr (quoted in the run's history), exit 1 (retryable) or the given code.
fail() {
  printf '%s\n' "$1" >&2
  exit "${2:-1}"
}
