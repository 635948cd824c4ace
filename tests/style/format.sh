#!/bin/sh
# The C sources follow the repository's .clang-format: lists every file
# that clang-format would change, with the first differences, and exits 1
# when there is one. Usage: format.sh SRC [CLANG_FORMAT]
set -eu
src=$1
cf=${2:-clang-format}
cd "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files '*.c' '*.h')
else
    files=$(find libpart partd partctl tests -name '*.[ch]' | sort)
fi
total=$(echo "$files" | wc -l)
# shellcheck disable=SC2086 # one file name a word
if "$cf" --dry-run --Werror $files >/dev/null 2>&1; then
    echo "$total passed, 0 failed"
    exit 0
fi
failed=0
for f in $files; do
    "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 && continue
    failed=$((failed + 1))
    echo "FAIL $f is not formatted (run: $cf -i $f):"
    "$cf" "$f" | diff -u "$f" - | sed -n '3,20p' || true
done
echo "$((total - failed)) passed, $failed failed"
exit 1
