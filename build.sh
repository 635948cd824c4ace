#!/bin/sh
# Set-up, build and run for partd. See README.md.
#   ./build.sh demo   install what is missing, build, run the example CPC
#   ./build.sh demo guests
#                     install what is missing, build, run two QEMU guests
#                     under libvirtd and show the rebalancer moving capacity
#                     between them (as root, or through sudo)
#   ./build.sh test   install what is missing, build, run every test
#   ./build.sh build  install what is missing and build
# shellcheck disable=SC2086 # the package lists are split into words on purpose
set -eu
cd "$(dirname "$0")"

# Debian 12 packages. The build: partd, partctl, and the C tests and
# benchmarks that are built with them.
BUILD_PACKAGES="cmake gcc make pkg-config libvirt-dev libjansson-dev libmicrohttpd-dev
libcmocka-dev libcurl4-openssl-dev libxml2-dev libsystemd-dev"
# examples/demo.sh: python3 for a free port, curl to wait for partd
DEMO_PACKAGES="python3 curl"
# The tests only: the Python tests (python3-jsonschema), the format check
# (clang-format-14), the reliability
# suite (valgrind for memcheck, wrk for load, libvirtd for backend loss) and
# the libFuzzer harnesses (tests/reliability, tests/fuzz). The real-guest
# tests install libvirtd and QEMU themselves (tests/integration/libvirtd-up.sh,
# which keeps the packages from starting daemons of their own). The package
# test (tests/package): build-essential (dpkg-buildpackage checks it), debhelper
# and lintian to build and check the Debian packages, debootstrap and
# systemd-container to boot them in a Debian 12 root. The console test
# (tests/console): chromium, chromium-driver and python3-selenium. The
# two-CPC tests (tests/cpcs): iproute2 for their network namespaces.
TEST_PACKAGES="python3 python3-jsonschema valgrind wrk clang-14 libclang-rt-14-dev clang-format-14 openssl
libvirt-daemon build-essential debhelper lintian debootstrap systemd-container
chromium chromium-driver python3-selenium iproute2"
BUILD_DIR=${BUILD_DIR:-build}
# -Werror in CI only (CI=true): a warning that a user's newer compiler adds
# must not stop their build. Given every time, so that a build tree
# configured for CI before is not left with it.
case ${CI:-} in
"" | false | 0) WERROR=OFF ;;
*) WERROR=ON ;;
esac

# deps PACKAGE...: installs those that are missing
deps() {
    missing=""
    for p in "$@"; do
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
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARTD_WERROR=$WERROR >/dev/null
    cmake --build "$BUILD_DIR" -j"$(nproc)"
}

# The suite again with ASan+UBSan (build-asan/), then each libFuzzer harness
# for a few seconds (build-fuzz/, clang) when clang is there.
test_sanitized() {
    echo "==> building in build-asan/ (PARTD_SANITIZE=ON) and running the tests there"
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARTD_WERROR=$WERROR \
        -DPARTD_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$(nproc)"
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE 'integration|bench|package'
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
    deps $BUILD_PACKAGES $DEMO_PACKAGES
    build
    case ${2:-} in
    "") ;;
    guests)
        # libvirtd-up.sh installs libvirtd and QEMU when missing, as for
        # the real-guest tests; the guest is built from Debian packages
        echo "==> partd on two QEMU guests: the rebalancer at work"
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        exec $sudo python3 examples/demo-guests.py "$BUILD_DIR"
        ;;
    *)
        echo "usage: $0 demo [guests]" >&2
        exit 2
        ;;
    esac
    echo "==> partd --check examples/test-cpc"
    "$BUILD_DIR/partd/partd" --check examples/test-cpc
    echo
    echo "==> partd on the example CPC, driven by partctl"
    examples/demo.sh "$BUILD_DIR"
    ;;
test)
    deps $BUILD_PACKAGES $TEST_PACKAGES
    build
    echo "==> running the tests"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"
    test_sanitized
    test_fuzz
    ;;
build)
    deps $BUILD_PACKAGES
    build
    ;;
*)
    echo "usage: $0 demo [guests]|test|build" >&2
    exit 2
    ;;
esac
