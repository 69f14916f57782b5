#!/bin/bash
# selftest.sh [OUTDIR] [DEPSROOT]: builds pgdog-host and the stub plugin
# variants into OUTDIR (default build/vtablehost-selftest) and checks the
# host's loading rules, routing, threads, load and signal modes against
# the stub. Exits non-zero on any failure. Run from the repository root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/vtablehost-selftest}
deps=${2:-} # default: build.sh's
CC=${CC:-gcc}

"$here/build.sh" "$out" ${deps:+"$deps"} || { echo "selftest: build failed"; exit 1; }
out=$(cd "$out" && pwd)
st=$out/stubs
mkdir -p "$st"
rv=${RUSTC_VERSION:-$(rustc --version)}

stub() { # stub NAME CFLAGS...
    local n=$1; shift
    echo "+ $CC ... -o $st/$n.so $*"
    "$CC" -O2 -Wall -Werror -shared -fPIC -pthread -I"$here/../include" "$@" -o "$st/$n.so" "$here/testdata/stub_plugin.c" || exit 1
}
stub libstub                                   # rustc version read from the host's .comment
stub explicit "-DSTUB_RUSTC=\"$rv\""
stub api04 '-DSTUB_API="0.4"'
stub api050 '-DSTUB_API="0.5.0"'
stub api140 '-DSTUB_API="1.4.0"'
stub apipre '-DSTUB_API="0.4.7-beta.1+build.05"'
stub apilead0 '-DSTUB_API="0.04.0"'
stub apispace '-DSTUB_API="0.4.0 "'
stub rustcold '-DSTUB_RUSTC="rustc 1.94.0 (4a4ef493e 2026-03-02)"'
stub rustcnl "-DSTUB_RUSTC=\"$rv\\n\""
stub novtable -DSTUB_NO_VTABLE
stub cfgfalse -DSTUB_CONFIG_FALSE
stub keepcfg -DSTUB_KEEP_CONFIG
stub thread -DSTUB_THREAD
stub foreign -DSTUB_FOREIGN_STACK
stub echo -DSTUB_ECHO

hosts="$out/pgdog-host"
cases=$here/testdata/cases.tsv
fails=0
n=0
t=$out/selftest.tmp
mkdir -p "$t"

ok() { n=$((n + 1)); echo "ok   $*"; }
hx() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "FAIL $*"; }

expect_rc() { # expect_rc WANT LABEL CMD...
    local want=$1 label=$2; shift 2
    "$@" >"$t/out" 2>"$t/err"
    local rc=$?
    if [ "$rc" = "$want" ]; then ok "$label (exit $rc)"; else
        bad "$label: exit $rc, want $want"; sed 's/^/     | /' "$t/err" | tail -5; fi
}

expect_grep() { # expect_grep FILE PATTERN LABEL
    if grep -q -- "$2" "$t/$1"; then ok "$3"; else bad "$3: no /$2/ in $1"; sed 's/^/     | /' "$t/$1" | tail -5; fi
}

for c in $hosts; do
    if readelf -p .comment "$c" | grep -qF "rustc version ${rv#rustc }"; then
        ok "$(basename "$c"): .comment has 'rustc version ${rv#rustc }'"
    else bad "$(basename "$c"): .comment lacks the rustc line"; fi
done

for h in $hosts; do
    hn=$(basename "$h")
    echo "== $hn"
    expect_rc 0 "$hn check (rustc version from .comment)" "$h" --plugin "$st/libstub.so" check
    expect_grep out "^check: plugin=.* api_version=0.4.0 rustc_version=$rv plugin_version=stub-1.0$" "$hn check prints versions"
    expect_rc 0 "$hn check explicit rustc" "$h" --plugin "$st/explicit.so" check
    expect_rc 0 "$hn bare name via LD_LIBRARY_PATH" env LD_LIBRARY_PATH="$st" "$h" --plugin stub check
    expect_grep out "path=libstub.so " "$hn bare name -> libstub.so"
    expect_rc 3 "$hn missing library" "$h" --plugin "$st/nosuch.so" check
    expect_grep err 'plugin ".*nosuch.so" failed to load' "$hn dlopen warning"
    expect_rc 3 "$hn bare name not on path" env LD_LIBRARY_PATH=/nonexistent "$h" --plugin nosuchplugin check
    expect_rc 4 "$hn no PGDOG_PLUGIN_VTABLE" "$h" --plugin "$st/novtable.so" check
    expect_grep err 'skipping plugin ".*" because its vtable could not be loaded' "$hn vtable warning"
    for v in api04 apilead0 apispace; do
        expect_rc 5 "$hn api $v skipped" "$h" --plugin "$st/$v.so" check
        expect_grep err "failed to parse plugin API version" "$hn api $v: parse failure reported"
    done
    for v in api050 api140; do
        expect_rc 5 "$hn api $v skipped" "$h" --plugin "$st/$v.so" check
        expect_grep err "because it was compiled with different plugin API version" "$hn api $v warning"
    done
    expect_rc 0 "$hn api 0.4.7-beta.1+build.05 loads" "$h" --plugin "$st/apipre.so" check
    expect_rc 6 "$hn other rustc skipped" "$h" --plugin "$st/rustcold.so" check
    expect_grep err "because it was compiled with different compiler version (rustc 1.94.0" "$hn rustc warning"
    expect_rc 6 "$hn rustc with trailing newline skipped" "$h" --plugin "$st/rustcnl.so" check
    expect_rc 7 "$hn config false skipped" "$h" --plugin "$st/cfgfalse.so" check
    expect_grep err "failed to load its configuration" "$hn config warning"
    expect_rc 0 "$hn config passed" "$h" --plugin "$st/libstub.so" --config /etc/vecshard/x.toml --log-level debug --log-json check
    expect_grep err "stub: logging_init log_level=debug log_json=1 plugin_config=/etc/vecshard/x.toml plugin_config_data_null=0" "$hn logging_init got the Config"
    expect_grep err "stub: config plugin_config=/etc/vecshard/x.toml" "$hn config got the path"
    expect_rc 0 "$hn empty config" "$h" --plugin "$st/libstub.so" check
    expect_grep err "plugin_config= plugin_config_data_null=1" "$hn empty config path is NULL/0"
    expect_rc 0 "$hn keep-config stub" "$h" --plugin "$st/keepcfg.so" check
    if grep -q "kept log_level pointer now reads: 69 6e 66 6f$" "$t/err"; then bad "$hn Config strings not scribbled"; else ok "$hn Config strings gone after load ($(grep -o 'now reads:.*' "$t/err"))"; fi

    expect_rc 0 "$hn route" "$h" --plugin "$st/libstub.so" route "$cases"
    if cmp -s "$t/out" "$here/testdata/cases.stub.out"; then ok "$hn route output = cases.stub.out"; else
        bad "$hn route output differs"; diff "$t/out" "$here/testdata/cases.stub.out" | head; fi
    expect_grep err "installed SIGHUP handler flags=0x14000004 (SA_ONSTACK not set)" "$hn SIGHUP flags SA_RESTART|SA_SIGINFO"
    expect_rc 0 "$hn route --threads 4 --repeat 300" "$h" --plugin "$st/libstub.so" --threads 4 --repeat 300 route "$cases"
    called=$(grep -cP '^[^\t]+\t-?[0-9]+\t' "$here/testdata/cases.stub.out")
    expect_grep err "^route: threads=4 repeat=300 routes=$((4 * 300 * called)) mismatches=0$" "$hn threads agree (only the $called called cases)"
    expect_rc 0 "$hn load" "$h" --plugin "$st/libstub.so" --seconds 1 load "$cases"
    expect_grep out "^load: threads=2 seconds=[0-9.]* calls=[1-9][0-9]* calls_per_sec=[1-9][0-9]* mismatches=0$" "$hn load line"
    echo "     $(grep 'threads=' "$t/out")"
    expect_rc 0 "$hn signals (stub)" "$h" --plugin "$st/libstub.so" --seconds 1 signals "$cases"
    expect_grep out "^signals: delivered=[1-9][0-9]* foreign_stack=0 other_thread=0 routes=[1-9]" "$hn signals clean"
    echo "     $(cat "$t/out")"
    expect_rc 0 "$hn signals (stub with its own thread)" "$h" --plugin "$st/thread.so" --seconds 1 signals "$cases"
    echo "     $(cat "$t/out")"
    expect_rc 1 "$hn signals (stub routing on its own stack) fails" "$h" --plugin "$st/foreign.so" --seconds 1 signals "$cases"
    expect_grep out "^signals: delivered=[1-9][0-9]* foreign_stack=[1-9]" "$hn foreign stack detected"
    echo "     $(cat "$t/out")"
    expect_rc 134 "$hn --abort-on-foreign-stack aborts" "$h" --plugin "$st/foreign.so" --seconds 2 --abort-on-foreign-stack signals "$cases"
    expect_grep err "signal handler ran on a foreign stack, aborting" "$hn abort message"

    printf 'x\t1\t-\tzz\t-\n' >"$t/bad.tsv"
    expect_rc 8 "$hn bad case file" "$h" --plugin "$st/libstub.so" route "$t/bad.tsv"
    printf 'x\t4\tPr\t3b\t-\n' >"$t/bad.tsv"
    expect_rc 8 "$hn shape P R and raw r p do not mix" "$h" --plugin "$st/libstub.so" route "$t/bad.tsv"
    expect_grep err "do not mix" "$hn mix message"
    printf 'x\t4\tqPR\t3b\t-\t31\n' >"$t/bad.tsv"
    expect_rc 8 "$hn simple Query with a parameter" "$h" --plugin "$st/libstub.so" route "$t/bad.tsv"
    printf 'x\t4\tqdPR\t3b\t-\n' >"$t/bad.tsv"
    expect_rc 8 "$hn two message kinds" "$h" --plugin "$st/libstub.so" route "$t/bad.tsv"

    # blocked: the client's error, detail = the SQL text (TAB, LF, \ escaped)
    printf 'blk\t4\tPR\t%s\t-\t%s\t%s\n' "$(hx "SELECT \$1,	\$2 -- a\\b")" "$(hx -3)" "$(hx 2)" >"$t/blk.tsv"
    printf 'blk1\t1\tPR\t%s\t-\t%s\t%s\n' "$(hx 'SELECT $1, $2')" "$(hx -3)" "$(hx 1)" >>"$t/blk.tsv"
    expect_rc 0 "$hn route blocked" "$h" --plugin "$st/echo.so" route "$t/blk.tsv"
    printf 'blk\t-3\t2\t42601 query is blocked by plugin "%s"\tSELECT $1,\\t$2 -- a\\\\b\nblk1\t-3\t1\t42601 query is blocked by plugin "%s"\tSELECT $1, $2\n' "$st/echo.so" "$st/echo.so" >"$t/blk.want"
    if cmp -s "$t/out" "$t/blk.want"; then ok "$hn blocked: 42601, message, SQL as detail"; else
        bad "$hn blocked output"; diff "$t/out" "$t/blk.want"; fi
    expect_rc 8 "$hn missing case file" "$h" --plugin "$st/libstub.so" route "$t/nosuch.tsv"
    expect_rc 2 "$hn usage error" "$h" route
    expect_rc 2 "$hn unknown option" "$h" --bogus check
    expect_rc 0 "$hn --help" "$h" --help
done

# serve: one flushed answer per case line, PgDog's view of the Route
e() { printf '%s\t%s\t%s\t%s\t-\t%s\t%s\n' "$1" "$2" "$3" "$(hx 'SELECT $1, $2')" "$(hx "$4")" "$(hx "$5")"; }
{
    e direct 4 PR 2 1; e all 4 PR -1 0; e unk 4 PR -2 2; e badshard 4 PR -7 9; e big 4 PR 9 0
    e blk 4 PR -3 2; e one_all 1 PR -1 1; e one_unk 1 PR -2 2; e one_blk 1 PR -3 0; e one_P 1 P 3 1
    printf '# a comment line\n\n'
    printf 'set\t4\tqPR\t%s\t-\n' "$(hx 'SET x = 1')"
    printf 'd\t4\tdPR\t%s\t-\n' "$(hx 'SELECT 1')"
    printf 'beginins\t4\tqPR\t%s\t-\n' "$(hx 'BEGIN; INSERT INTO t VALUES (1)')"
    printf 'bad\t4\tPR\t%s\t-\n' "$(hx 'SELEC 1')"
    printf 'junk\t4\tZ\t00\t-\n'
    printf '\tx\n'
} >"$t/serve.in"
cat >"$t/serve.want" <<EOW
direct	2	read
all	ALL	write
unk	UNKNOWN	unknown
badshard	UNKNOWN	unknown
big	9	write
blk	BLOCKED	unknown	42601 query is blocked by plugin "$st/echo.so"
one_all	0	read
one_unk	0	unknown
one_blk	BLOCKED	write	42601 query is blocked by plugin "$st/echo.so"
one_P	NOCALL	PgDog does not parse for a one-shard cluster without replicas
set	NOCALL	PgDog routes SET itself
d	NOCALL	PgDog does not call plugins for a Parse or Describe without Bind
beginins	NOCALL	PgDog handles BEGIN itself
bad	PARSE_ERROR	syntax error at or near "SELEC"
junk	BAD_CASE	unknown flag letter (w t q b d P R r p)
-	BAD_CASE	need at least 5 TAB-separated fields
EOW
expect_rc 0 "serve: exit 0 at the end of stdin" "$out/pgdog-host" --plugin "$st/echo.so" serve <"$t/serve.in"
if cmp -s "$t/out" "$t/serve.want"; then ok "serve answers"; else bad "serve answers"; diff "$t/out" "$t/serve.want"; fi
expect_grep err "stub: fini routes=9 " "serve: fini after stdin closed, 9 route calls"
# one line in, one line out, before stdin closes; thousands of lines
if python3 - "$out/pgdog-host" "$st/echo.so" <<'EOP'
import subprocess, sys
p = subprocess.Popen([sys.argv[1], "--plugin", sys.argv[2], "serve"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
h = lambda s: s.encode().hex()
for i in range(3000):
    p.stdin.write(f"c{i}\t4\tPR\t{h('SELECT $1, $2')}\t-\t{h(str(i % 7))}\t{h('1')}\n".encode())
    p.stdin.flush()
    l = p.stdout.readline().decode()
    if l != f"c{i}\t{i % 7}\tread\n":
        sys.exit(f"line {i}: {l!r}")
p.stdin.close()
sys.exit(p.wait())
EOP
then ok "serve: 3000 lines answered one by one, exit 0"; else bad "serve interactive"; fi
expect_rc 2 "serve takes no CASEFILE" "$out/pgdog-host" --plugin "$st/echo.so" serve "$t/serve.in"

echo "selftest: $n checks, $fails failed"
[ $fails = 0 ]
