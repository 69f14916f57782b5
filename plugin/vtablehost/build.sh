#!/bin/sh
# build.sh OUTDIR [DEPSROOT]: builds the vtable test hosts.
#   OUTDIR/pgdog-host    Rust host (plugin/vtablehost/host.rs), when rustc exists
#   OUTDIR/pgdog-host-c  C twin (plugin/vtablehost/host.c)
# DEPSROOT holds libpg_query's static library and headers, Debian layout:
#   DEPSROOT/usr/lib/MULTIARCH/libpg_query.a, DEPSROOT/usr/include/pg_query...
# (default: the root scripts/pg18-deps.sh prints, fetching the pinned
# packages first if needed). The rustc version both hosts expect is
# $RUSTC_VERSION if set, else `rustc --version`.
# Env: CC (default gcc), RUSTC (default rustc).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build}
deps=${2:-$("$here/../../scripts/pg18-deps.sh")}
CC=${CC:-gcc}
RUSTC=${RUSTC:-rustc}
lib=$deps/usr/lib/$("$CC" -print-multiarch)
inc=$deps/usr/include

if [ ! -f "$lib/libpg_query.a" ]; then
    echo "build.sh: $lib/libpg_query.a not found (DEPSROOT=$deps)" >&2
    exit 1
fi
mkdir -p "$out"
obj=$out/vtablehost-obj
mkdir -p "$obj"

run() { echo "+ $*"; "$@"; }

have_rustc=0
if command -v "$RUSTC" >/dev/null 2>&1; then have_rustc=1; fi
if [ -z "${RUSTC_VERSION:-}" ]; then
    if [ $have_rustc = 1 ]; then
        RUSTC_VERSION=$("$RUSTC" --version)
    else
        RUSTC_VERSION="rustc 1.95.0 (59807616e 2026-04-14)"
        echo "build.sh: rustc not found and RUSTC_VERSION not set; assuming PgDog's is '$RUSTC_VERSION'" >&2
    fi
fi
case $RUSTC_VERSION in
    "rustc "*) ;;
    *) echo "build.sh: RUSTC_VERSION must start with 'rustc ': $RUSTC_VERSION" >&2; exit 1 ;;
esac
case $RUSTC_VERSION in
    *\"*|*\\*) echo "build.sh: RUSTC_VERSION must not contain quotes or backslashes" >&2; exit 1 ;;
esac
tail=${RUSTC_VERSION#rustc }
echo "build.sh: host rustc version: $RUSTC_VERSION"

run "$CC" -O2 -Wall -Werror -fPIC -c -I"$inc" -I"$inc/pg_query" -I"$inc/pg_query/postgres" \
    -o "$obj/pgparse.o" "$here/pgparse.c"
rm -f "$obj/libvhpgparse.a"
run ar rcs "$obj/libvhpgparse.a" "$obj/pgparse.o"

run "$CC" -O2 -Wall -Werror -pthread -I"$here/../include" "-DVH_RUSTC_VERSION_TAIL=\"$tail\"" \
    -o "$out/pgdog-host-c" "$here/host.c" "$obj/pgparse.o" "$lib/libpg_query.a" -ldl

if [ $have_rustc = 1 ]; then
    RUSTC_VERSION=$RUSTC_VERSION run "$RUSTC" --edition 2021 -O --crate-name pgdog_host \
        -L "native=$obj" -l static=vhpgparse -L "native=$lib" -l static=pg_query \
        -o "$out/pgdog-host" "$here/host.rs"
else
    echo "build.sh: rustc not found: building only the C twin ($out/pgdog-host-c)"
fi
