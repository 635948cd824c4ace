#!/bin/sh
# Fetches the vendored libraries again from the npm registry, each at its
# pinned version, checks each tarball against the registry's integrity
# (sha512), and writes console/vendor/DIR/ and its SHA256SUMS, which
# console/vendor/check.sh (ctest console-vendor) verifies.
#   console/vendor/fetch.sh
# To move a library to another version: change its VERSION and INTEGRITY
# below (`npm view PACKAGE@VERSION dist.integrity`), run this, look at the
# diff, commit. Uses `npm pack` when npm is there (Debian: apt-get install
# npm), else curl on the registry's tarball.
#   uPlot: the charts (MIT, LICENSE).
#   @cfworker/json-schema: the profile editor's check against
#     schemas/profile.schema.json, without eval or new Function, which the
#     console's CSP forbids (MIT: its package.json says so; the tarball
#     has no LICENSE file).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# vendor DIR PACKAGE VERSION INTEGRITY FILE...: package/FILE of the tarball
# into DIR, flat
vendor() {
    dir=$1 pkg=$2 version=$3 integrity=$4
    shift 4
    out="$here/$dir"
    work="$tmp/$dir"
    mkdir -p "$work"
    base=$(basename "$pkg")
    if command -v npm >/dev/null 2>&1; then
        (cd "$work" && npm pack --silent "$pkg@$version" >/dev/null)
        tgz=$(ls "$work"/*.tgz)
    else
        tgz="$work/$base-$version.tgz"
        curl -fsSL -o "$tgz" "https://registry.npmjs.org/$pkg/-/$base-$version.tgz"
    fi
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
        echo "$pkg-$version: integrity $got, expected $integrity" >&2
        exit 1
    fi
    tar -xzf "$tgz" -C "$work"
    mkdir -p "$out"
    rm -f "$out"/*
    names=""
    for f in "$@"; do
        cp "$work/package/$f" "$out/"
        names="$names $(basename "$f")"
    done
    echo "$version" >"$out/VERSION"
    # shellcheck disable=SC2086 # names is a list of plain file names
    (cd "$out" && sha256sum -- $names VERSION >SHA256SUMS)
    echo "$pkg $version in $out"
}

vendor uplot uplot 1.6.32 \
    sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw== \
    dist/uPlot.esm.js dist/uPlot.min.css LICENSE

js=dist/esm
vendor json-schema @cfworker/json-schema 4.1.6 \
    sha512-YzVGTHXf4bzlyAL5KAvHYCdNbbt6zM5cYkAgxqxQPDQM6aZ4ShIIN5yJ+6q7YeonnevxT8k/LmD2tJi/jOiKkg== \
    $js/index.js $js/deep-compare-strict.js $js/dereference.js $js/format.js $js/pointer.js \
    $js/types.js $js/ucs2-length.js $js/validate.js $js/validator.js package.json
