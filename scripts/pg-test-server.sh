#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster on a Unix socket for tests.
#   scripts/pg-test-server.sh start|stop|dsn
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=${PGTEST_DIR:-/tmp/vecshard-pgtest}
port=${PGTEST_PORT:-54329}
run() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
case "${1:-}" in
start)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	[ -f "$dir/data/PG_VERSION" ] || run "$bin/initdb -D $dir/data -U postgres -A trust >/dev/null"
	run "$bin/pg_ctl -D $dir/data -o '-k $dir -p $port -c listen_addresses=' -l $dir/log -w start >/dev/null"
	;;
stop) run "$bin/pg_ctl -D $dir/data -m fast stop" ;;
dsn) echo "postgres://postgres@/postgres?host=$dir&port=$port&sslmode=disable" ;;
*) echo "usage: $0 start|stop|dsn" >&2; exit 2 ;;
esac
