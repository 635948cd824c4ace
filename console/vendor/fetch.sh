#!/bin/sh
# Fetches the vendored uPlot again from the npm registry, at the pinned
# version, checks the tarball against the registry's integrity (sha512),
# and writes console/vendor/uplot/ and its SHA256SUMS, which
# console/vendor/check.sh (ctest console-vendor) verifies.
#   console/vendor/fetch.sh
# To move to another version: change VERSION and INTEGRITY (`npm view
# uplot@VERSION dist.integrity`), run this, look at the diff, commit.
# Uses `npm pack` when npm is there (Debian: apt-get install npm), else
# curl on the registry's tarball.
set -eu
VERSION=1.6.32
INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==
FILES="dist/uPlot.esm.js dist/uPlot.min.css LICENSE"

here=$(cd "$(dirname "$0")" && pwd)
out="$here/uplot"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tgz="$tmp/uplot-$VERSION.tgz"
if command -v npm >/dev/null 2>&1; then
    (cd "$tmp" && npm pack --silent "uplot@$VERSION" >/dev/null)
else
    curl -fsSL -o "$tgz" "https://registry.npmjs.org/uplot/-/uplot-$VERSION.tgz"
fi
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
    echo "uplot-$VERSION.tgz: integrity $got, expected $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$tgz" -C "$tmp"
mkdir -p "$out"
rm -f "$out"/*
for f in $FILES; do
    cp "$tmp/package/$f" "$out/"
done
echo "$VERSION" >"$out/VERSION"
(cd "$out" && sha256sum -- $(for f in $FILES; do basename "$f"; done) VERSION >SHA256SUMS)
echo "uplot $VERSION in $out"
