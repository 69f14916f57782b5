#!/bin/sh
# build.sh OUTDIR [DEPSROOT]: builds the vtable test host OUTDIR/pgdog-host
# (plugin/vtablehost/host.rs, Rust, std only) with pgparse.c's parse step.
# DEPSROOT holds libpg_query's static library and headers, Debian layout:
#   DEPSROOT/usr/lib/MULTIARCH/libpg_query.a, DEPSROOT/usr/include/pg_query...
# (default: the root scripts/pg18-deps.sh prints, fetching the pinned
# packages first if needed). The rustc version the host expects from a
# plugin is $RUSTC_VERSION if set, else `rustc --version`.
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
if ! command -v "$RUSTC" >/dev/null 2>&1; then
    echo "build.sh: $RUSTC not found: the PgDog-like host is Rust (install Debian's rustc, or rustup; .ci/run does)" >&2
    exit 1
fi
RUSTC_VERSION=${RUSTC_VERSION:-$("$RUSTC" --version)}
case $RUSTC_VERSION in
    "rustc "*) ;;
    *) echo "build.sh: RUSTC_VERSION must start with 'rustc ': $RUSTC_VERSION" >&2; exit 1 ;;
esac
echo "build.sh: host rustc version: $RUSTC_VERSION"

mkdir -p "$out"
obj=$out/vtablehost-obj
mkdir -p "$obj"

run() { echo "+ $*"; "$@"; }

run "$CC" -O2 -Wall -Werror -fPIC -c -I"$inc" -I"$inc/pg_query" -I"$inc/pg_query/postgres" \
    -o "$obj/pgparse.o" "$here/pgparse.c"
rm -f "$obj/libvhpgparse.a"
run ar rcs "$obj/libvhpgparse.a" "$obj/pgparse.o"

RUSTC_VERSION=$RUSTC_VERSION run "$RUSTC" --edition 2021 -O --crate-name pgdog_host \
    -L "native=$obj" -l static=vhpgparse -L "native=$lib" -l static=pg_query \
    -o "$out/pgdog-host" "$here/host.rs"
