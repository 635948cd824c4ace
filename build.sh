#!/bin/sh
# Set-up, build and run for partd. See README.md.
#   ./build.sh demo   install what is missing, build, run the example CPC
#   ./build.sh test   install what is missing, build, run every test
#   ./build.sh build  install what is missing and build
set -eu
cd "$(dirname "$0")"

# Debian 12 packages the build and the tests need.
PACKAGES="cmake gcc make pkg-config libvirt-dev libjansson-dev libmicrohttpd-dev libcmocka-dev
libcurl4-openssl-dev libxml2-dev curl python3 python3-jsonschema"
BUILD_DIR=${BUILD_DIR:-build}

deps() {
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "==> installing:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

build() {
    echo "==> building in $BUILD_DIR/"
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARTD_WERROR=ON >/dev/null
    cmake --build "$BUILD_DIR" -j"$(nproc)"
}

case "${1:-}" in
demo)
    deps
    build
    echo "==> partd --check examples/test-cpc"
    "$BUILD_DIR/partd/partd" --check examples/test-cpc
    echo
    echo "==> partd on the example CPC, driven by partctl"
    examples/demo.sh "$BUILD_DIR"
    ;;
test)
    deps
    build
    echo "==> running the tests"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"
    ;;
build)
    deps
    build
    ;;
*)
    echo "usage: $0 demo|test|build" >&2
    exit 2
    ;;
esac
