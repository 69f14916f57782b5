#!/usr/bin/env bash
# Real PostgreSQL + pgvector servers on loopback for the end-to-end tests and
# the benchmarks: N servers, each its own data directory and port, small
# memory, fsync off.
#
#   scripts/pg-shards.sh root          build (or reuse) the server root, print its path
#   scripts/pg-shards.sh start N       start N fresh servers, print one DSN a line
#   scripts/pg-shards.sh stop          stop the servers of this first port, unmount when none is left
#   scripts/pg-shards.sh dsn I         the DSN of server I
#
# Debian bookworm has no pgvector; trixie has postgresql-17 and
# postgresql-17-pgvector (0.8.0). So the servers run from a minimal trixie
# root made by debootstrap from Debian's own packages and cached under
# build/_pgroot (about a minute cold, nothing when warm), in a chroot with /proc
# bound and a tmpfs on /dev/shm. That needs root (CI runs as root).
#
# Exit status 3 with a line "skip: ..." when this machine cannot run them (not
# root, no debootstrap, the archive unreachable): the tests then skip and
# print that line. Servers of your own instead: export VECSHARD_PG_DSNS (one
# DSN per server, comma-separated); the tests use those and never call this.
#
# Environment: VECSHARD_PG_ROOT (default build/_pgroot), VECSHARD_PG_PORT (the
# first port, default 55400), VECSHARD_PG_MEM (shared_buffers, default 64MB),
# VECSHARD_PG_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/.."

root=${VECSHARD_PG_ROOT:-build/_pgroot} # _: go ./... patterns skip it
mkdir -p "$(dirname "$root")"
root=$(readlink -m "$root") # the path /proc/mounts shows
base=${VECSHARD_PG_PORT:-55400}
mem=${VECSHARD_PG_MEM:-64MB}
mirror=${VECSHARD_PG_MIRROR:-http://deb.debian.org/debian}
pgbin=/usr/lib/postgresql/17/bin
srv=/srv/vecshard # inside the root
set=$srv/p$base  # this first port's servers: sets of other ports run beside them

skip() { echo "skip: $*" >&2; exit 3; }
die() { echo "pg-shards: $*" >&2; exit 1; }

in_root() { chroot --userspec=postgres:postgres "$root" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }

ensure_root() {
	[ "$(id -u)" -eq 0 ] || skip "real pgvector servers need root (debootstrap and chroot); run as root, or export VECSHARD_PG_DSNS=dsn1,dsn2,... to use servers of your own"
	if [ -x "$root/$pgbin/postgres" ] && [ -f "$root/usr/share/postgresql/17/extension/vector.control" ]; then
		return
	fi
	command -v debootstrap >/dev/null || skip "debootstrap is not installed (apt-get install debootstrap): it builds the trixie root that runs PostgreSQL 17 + pgvector"
	echo "pg-shards: building $root: debootstrap trixie with postgresql-17 and postgresql-17-pgvector (about a minute, once)" >&2
	local tmp=$root.tmp
	rm -rf "$tmp"
	if ! debootstrap --variant=minbase --include=postgresql-17,postgresql-17-pgvector trixie "$tmp" "$mirror" >"$root.log" 2>&1; then
		tail -5 "$root.log" >&2
		skip "debootstrap of trixie from $mirror failed (log: $root.log): the package archive is unreachable or lacks postgresql-17-pgvector"
	fi
	rm -rf "$root"
	mv "$tmp" "$root"
}

mounted() { grep -q " $1 " /proc/mounts; }

mount_fs() {
	mkdir -p "$root/proc" "$root/dev/shm"
	mounted "$root/proc" || mount -t proc proc "$root/proc"
	mounted "$root/dev/shm" || mount -t tmpfs -o size=1g,mode=1777 tmpfs "$root/dev/shm"
}

umount_fs() {
	mounted "$root/dev/shm" && umount "$root/dev/shm"
	mounted "$root/proc" && umount "$root/proc"
	return 0
}

# One initdb, copied for every server: initdb is most of a cold start.
template() {
	[ -f "$root/$srv/template/PG_VERSION" ] && return
	mkdir -p "$root/$srv"
	chroot "$root" chown postgres:postgres "$srv"
	in_root "$pgbin/initdb" -D "$srv/template" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
}

stop_all() {
	local d
	for d in "$root/$set"/pg*; do
		[ -f "$d/postmaster.pid" ] || continue
		in_root "$pgbin/pg_ctl" -D "$set/$(basename "$d")" -m immediate -w stop >/dev/null 2>&1 || true
	done
	compgen -G "$root/$srv/p*/pg*/postmaster.pid" >/dev/null || umount_fs
}

start() {
	local n=$1 i port name
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "start needs a server count >= 1, not '$n'"
	ensure_root
	stop_all
	mount_fs
	template
	mkdir -p "$root/$set"
	chroot "$root" chown postgres:postgres "$set"
	for ((i = 0; i < n; i++)); do
		name=$set/pg$i
		port=$((base + i))
		rm -rf "${root:?}/$name"
		cp -a "$root/$srv/template" "$root/$name"
		in_root "$pgbin/pg_ctl" -D "$name" -l "$name.log" -w -t 60 start -o \
			"-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off \
			 -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=$mem \
			 -c maintenance_work_mem=256MB -c max_connections=200 -c log_min_messages=warning" >/dev/null ||
			{ tail -20 "$root/$name.log" >&2; die "server $i on port $port did not start (log above: $root/$name.log)"; }
		dsn "$i"
	done
}

dsn() { echo "postgres://postgres@127.0.0.1:$((base + $1))/postgres?sslmode=disable"; }

case "${1:-}" in
root) ensure_root; echo "$root" ;;
start) start "${2:-}" ;;
stop) [ "$(id -u)" -eq 0 ] && stop_all ;;
dsn) dsn "${2:?dsn needs a server index}" ;;
*) echo "usage: $0 root | start N | stop | dsn I" >&2; exit 2 ;;
esac
