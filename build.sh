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
# the reliability suite: memcheck, load, libFuzzer (tests/reliability, tests/fuzz)
PACKAGES="$PACKAGES valgrind wrk clang-14 libclang-rt-14-dev libvirt-daemon"
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

# The suite again with ASan+UBSan (build-asan/), then each libFuzzer harness
# for a few seconds (build-fuzz/, clang) when clang is there.
test_sanitized() {
    echo "==> building in build-asan/ (PARTD_SANITIZE=ON) and running the tests there"
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARTD_WERROR=ON \
        -DPARTD_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$(nproc)"
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE 'integration|bench'
}

test_fuzz() {
    cc=$(command -v clang-14 || command -v clang || true)
    if [ -z "$cc" ]; then
        echo "==> no clang: the fuzz harnesses are skipped"
        return 0
    fi
    echo "==> building the fuzz harnesses in build-fuzz/ ($cc) and running each briefly"
    cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPARTD_FUZZ=ON >/dev/null
    cmake --build build-fuzz --target fuzzers -j"$(nproc)"
    ctest --test-dir build-fuzz --output-on-failure -j"$(nproc)" -L fuzz
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
    test_sanitized
    test_fuzz
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
