#!/usr/bin/env bash
# Checks pgtree's committed PostgreSQL 18 layout table against the real
# headers:
#   1. compiles pgtree/testdata/pg18layout_check.c (a _Static_assert for
#      every tag number, sizeof, offsetof and enum value of
#      pgtree/layout_pg18.go) against libpg_query's headers, and
#      pgtree/testdata/pg18layout_check_server.c against upstream
#      PostgreSQL 18's server headers;
#   2. re-runs the generator into a temporary directory and requires
#      byte-identical output, so the committed files are up to date and the
#      generator deterministic.
#   scripts/pg18-layout-check.sh [DEPS_DIR]   (default: scripts/pg18-deps.sh's,
#   which fetches the pinned packages there when they are not unpacked yet)
# Exits non-zero, with the compiler's message or a diff, on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-gcc}
GO=${GO:-go}

root=$(scripts/pg18-deps.sh ${1:+"$1"})
pgq=$root/usr/include/pg_query/postgres
srv=$root/usr/include/postgresql/18/server

status=0
echo "layout-check: pgtree/testdata/pg18layout_check.c against libpg_query's headers"
if ! "$CC" -std=c11 -fsyntax-only -I "$pgq" pgtree/testdata/pg18layout_check.c; then
	echo "layout-check: FAILED: pgtree/layout_pg18.go disagrees with libpg_query's headers" >&2
	status=1
fi
echo "layout-check: pgtree/testdata/pg18layout_check_server.c against upstream's server headers"
if ! "$CC" -std=c11 -fsyntax-only -I "$srv" pgtree/testdata/pg18layout_check_server.c; then
	echo "layout-check: FAILED: pgtree/layout_pg18.go disagrees with upstream PostgreSQL 18's headers" >&2
	status=1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "layout-check: regenerating"
"$GO" run ./internal/cmd/pg18layout -cc "$CC" -headers "$pgq" \
	-out "$tmp/layout_pg18.go" \
	-check "$tmp/pg18layout_check.c" \
	-check-server "$tmp/pg18layout_check_server.c"
for f in pgtree/layout_pg18.go pgtree/testdata/pg18layout_check.c pgtree/testdata/pg18layout_check_server.c; do
	if ! cmp -s "$f" "$tmp/$(basename "$f")"; then
		echo "layout-check: FAILED: $f is not what the generator produces (regenerate: make layout-gen):" >&2
		diff -u "$f" "$tmp/$(basename "$f")" | head -40 >&2 || true
		status=1
	fi
done
# A second run must give the same bytes (the generator is deterministic).
"$GO" run ./internal/cmd/pg18layout -cc "$CC" -headers "$pgq" \
	-out "$tmp/again.go" -check "$tmp/again.c" -check-server "$tmp/again_server.c" 2>/dev/null
if ! cmp -s "$tmp/layout_pg18.go" "$tmp/again.go" || ! cmp -s "$tmp/pg18layout_check.c" "$tmp/again.c" ||
	! cmp -s "$tmp/pg18layout_check_server.c" "$tmp/again_server.c"; then
	echo "layout-check: FAILED: two generator runs differ" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "layout-check: ok"
exit "$status"
