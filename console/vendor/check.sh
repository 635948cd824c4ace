#!/bin/sh
# The vendored files of console/vendor/ are the ones console/vendor/fetch.sh
# fetched and checked: each directory's SHA256SUMS lists every file in it
# (nothing more, nothing less) with its hash.
#   console/vendor/check.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
status=0
for dir in "$here"/*/; do
    sums="$dir/SHA256SUMS"
    if [ ! -f "$sums" ]; then
        echo "$dir: no SHA256SUMS" >&2
        status=1
        continue
    fi
    (cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS) || status=1
    listed=$(awk '{print $2}' "$sums" | sort)
    present=$(cd "$dir" && ls -A | grep -vx SHA256SUMS | sort)
    if [ "$listed" != "$present" ]; then
        echo "$dir: files not as listed in SHA256SUMS:" >&2
        echo "  listed: $listed" >&2
        echo "  present: $present" >&2
        status=1
    fi
done
[ "$status" = 0 ] && echo "vendored files match their checksums"
exit "$status"
