#!/usr/bin/env bash
# Fetches the PostgreSQL 18 headers the parse-tree layout table is generated
# from and checked against: Debian unstable's libpg-query-dev (libpg_query's
# copy of the PG headers) and postgresql-server-dev-18 (upstream's), unpacked
# (not installed) under one directory.
#   scripts/pg18-deps.sh [DIR]     (default build/deps/pg18)
# Prints the unpacked root: ROOT/usr/include/pg_query/postgres and
# ROOT/usr/include/postgresql/18/server. Idempotent: does nothing when the
# headers are already there. Uses a private apt state under DIR/apt (its own
# sources list naming only unstable, lists, cache and status), so the
# system's apt configuration and package database are neither read for
# sources nor changed; works unprivileged or as root.
set -euo pipefail

dir=${1:-build/deps/pg18}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root=$dir/root
pgq=$root/usr/include/pg_query/postgres/nodes/parsenodes.h
srv=$root/usr/include/postgresql/18/server/nodes/parsenodes.h

if [ -f "$pgq" ] && [ -f "$srv" ]; then
	echo "$root"
	exit 0
fi

pkgs="libpg-query-dev postgresql-server-dev-18"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ ! -f "$keyring" ]; then
	echo "pg18-deps: $keyring missing (install debian-archive-keyring)" >&2
	exit 1
fi

st=$dir/apt
mkdir -p "$st/etc/preferences.d" "$st/lists/partial" "$st/cache/archives/partial" "$st/debs"
touch "$st/etc/status"
echo "deb [signed-by=$keyring] http://deb.debian.org/debian unstable main" >"$st/etc/sources.list"

apt_opts=(
	-o "Dir::Etc::SourceList=$st/etc/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::Etc::Preferences=$st/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$st/etc/preferences.d"
	-o "Dir::State=$st"
	-o "Dir::State::Lists=$st/lists"
	-o "Dir::State::status=$st/etc/status"
	-o "Dir::Cache=$st/cache"
	-o "Dir::Cache::Archives=$st/cache/archives"
	-o Debug::NoLocking=1
	-o APT::Get::List-Cleanup=0
	-o Acquire::Languages=none
	-o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false
)

# As root, apt would drop to the _apt user to download, which cannot write
# into a private directory it does not own (apt then warns and downloads
# unsandboxed as root anyway): say so up front instead. The archive's
# signature is still verified against the keyring.
if [ "$(id -u)" -eq 0 ]; then
	apt_opts+=(-o APT::Sandbox::User=root)
fi

apt-get "${apt_opts[@]}" -q update >&2
# apt-get download writes into the current directory.
(cd "$st/debs" && apt-get "${apt_opts[@]}" -q download $pkgs >&2)

mkdir -p "$root"
for p in $pkgs; do
	deb=$(ls "$st/debs/${p}_"*.deb 2>/dev/null | sort -V | tail -1)
	if [ -z "$deb" ]; then
		echo "pg18-deps: no .deb downloaded for $p" >&2
		exit 1
	fi
	dpkg-deb -x "$deb" "$root"
	echo "pg18-deps: unpacked $(basename "$deb")" >&2
done

if [ ! -f "$pgq" ] || [ ! -f "$srv" ]; then
	echo "pg18-deps: headers missing after unpacking ($pgq, $srv)" >&2
	exit 1
fi
echo "$root"
