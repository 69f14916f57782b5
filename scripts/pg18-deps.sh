#!/usr/bin/env bash
# Fetches the PostgreSQL 18 headers the parse-tree layout table is generated
# from and checked against, and libpg_query's static raw parser: Debian
# unstable's libpg-query-dev (libpg_query's copy of the PG headers) and
# postgresql-server-dev-18 (upstream's), at the exact versions and SHA256s
# pinned in scripts/pg18-deps.pins, unpacked (not installed) under one
# directory.
#   scripts/pg18-deps.sh [DIR]                 (default build/deps/pg18, the Makefile's PG18_DEPS)
#   scripts/pg18-deps.sh --update-pins [DIR]   pins unstable's current versions
# Prints the unpacked root: ROOT/usr/include/pg_query/postgres,
# ROOT/usr/include/postgresql/18/server and ROOT/usr/lib/MULTIARCH/libpg_query.a.
# Idempotent: does nothing when DIR holds exactly the pinned packages.
# Downloads each .deb from deb.debian.org's pool, or from snapshot.debian.org
# once unstable has dropped that version, and refuses any file whose SHA256
# is not the pinned one.
#
# --update-pins asks Debian unstable for its current versions through a
# private apt state under DIR/apt (its own sources list naming only unstable,
# lists, cache and status; the archive's signature is verified against
# debian-archive-keyring), so the system's apt configuration and package
# database are neither read for sources nor changed; works unprivileged or as
# root. It rewrites this architecture's lines of the pins file.
# Env: PG18_PINS (default scripts/pg18-deps.pins).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pins=${PG18_PINS:-$here/pg18-deps.pins}
pkgs="libpg-query-dev postgresql-server-dev-18"
arch=$(dpkg --print-architecture)

update=0
if [ "${1:-}" = "--update-pins" ]; then
	update=1
	shift
fi
dir=${1:-$here/../build/deps/pg18}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root=$dir/root
regen="The pins live in $pins (package, version, arch, pool path, SHA256, SHA1).
  To move to Debian unstable's current packages:
    scripts/pg18-deps.sh --update-pins     (rewrites the $arch lines of the pins)
    make layout-gen layout-check           (regenerates pgtree/layout_pg18.go and its checks from the new headers)
  and commit the pins with whatever layout-gen changed."

die() {
	echo "pg18-deps: $*" >&2
	exit 1
}

update_pins() {
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"
	local st=$dir/apt
	rm -rf "$st/debs"
	mkdir -p "$st/etc/preferences.d" "$st/lists/partial" "$st/cache/archives/partial" "$st/debs"
	touch "$st/etc/status"
	echo "deb [signed-by=$keyring] http://deb.debian.org/debian unstable main" >"$st/etc/sources.list"
	local apt_opts=(
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
	# As root, apt would drop to the _apt user to download, which cannot
	# write into a private directory it does not own (apt then warns and
	# downloads unsandboxed as root anyway): say so up front instead.
	if [ "$(id -u)" -eq 0 ]; then
		apt_opts+=(-o APT::Sandbox::User=root)
	fi
	apt-get "${apt_opts[@]}" -q update >&2
	# apt-get download writes into the current directory.
	(cd "$st/debs" && apt-get "${apt_opts[@]}" -q download $pkgs >&2)

	local new=$dir/pins.new
	grep -v " $arch pool/" "$pins" >"$new" || true
	local p deb ver pool
	for p in $pkgs; do
		deb=$(ls "$st/debs/${p}_"*"_$arch.deb" 2>/dev/null | sort -V | tail -1)
		[ -n "$deb" ] || die "no .deb downloaded for $p"
		ver=$(dpkg-deb -f "$deb" Version)
		pool=$(apt-cache "${apt_opts[@]}" show "$p=$ver" | sed -n 's/^Filename: //p' | head -1)
		[ -n "$pool" ] || die "no pool path for $p $ver in unstable's index"
		echo "$p $ver $arch $pool $(sha256sum <"$deb" | cut -d' ' -f1) $(sha1sum <"$deb" | cut -d' ' -f1)" >>"$new"
	done
	mv "$new" "$pins"
	echo "pg18-deps: pinned in $pins:" >&2
	grep " $arch pool/" "$pins" >&2
	echo "pg18-deps: now run make layout-gen layout-check and commit the pins with what layout-gen changed" >&2
}

if [ $update = 1 ]; then
	update_pins
fi

# This architecture's pins: "package version arch pool-path sha256 sha1".
want=$(grep -v '^#' "$pins" | awk -v a="$arch" 'NF && $3 == a')
for p in $pkgs; do
	echo "$want" | awk -v p="$p" '$1 == p { n++ } END { exit n != 1 }' ||
		die "no single pin for $p on $arch (pinned there: $(echo "$want" | awk '{print $1}' | xargs)).
  $regen"
done

if [ -f "$dir/pins.unpacked" ] && [ "$(cat "$dir/pins.unpacked")" = "$want" ]; then
	touch "$dir/pins.unpacked" # newer than the pins file for make
	echo "$root"
	exit 0
fi

# fetch URL FILE: prints curl's last message on failure.
fetch() {
	local e
	e=$(curl -fsSL --retry 2 -o "$2" "$1" 2>&1) && return 0
	echo "${e##*$'\n'}"
	return 1
}

rm -rf "$root" "$dir/pins.unpacked"
mkdir -p "$root" "$dir/debs"
while read -r p ver a pool sha256 sha1; do
	deb=$dir/debs/$(basename "$pool")
	if [ ! -f "$deb" ] || [ "$(sha256sum <"$deb" | cut -d' ' -f1)" != "$sha256" ]; then
		url=https://deb.debian.org/debian/$pool
		snap=https://snapshot.debian.org/file/$sha1
		if ! err=$(fetch "$url" "$deb.part"); then
			echo "pg18-deps: $p $ver is not in deb.debian.org's pool any more ($err); trying snapshot.debian.org" >&2
			url=$snap
			err=$(fetch "$url" "$deb.part") ||
				die "cannot download $p $ver ($arch): Debian unstable has moved on (deb.debian.org no longer has that version) and snapshot.debian.org did not serve it either ($url: $err).
  $regen"
		fi
		got=$(sha256sum <"$deb.part" | cut -d' ' -f1)
		if [ "$got" != "$sha256" ]; then
			rm -f "$deb.part"
			die "$p $ver ($arch) changed: $url
  has SHA256 $got, the pinned one is $sha256
  (the archive's file is not the one pinned: rebuilt under the same version, or a corrupt download).
  $regen"
		fi
		mv "$deb.part" "$deb"
	fi
	dpkg-deb -x "$deb" "$root"
	echo "pg18-deps: unpacked $(basename "$deb") (SHA256 as pinned)" >&2
done <<<"$want"

for h in usr/include/pg_query/postgres/nodes/parsenodes.h usr/include/postgresql/18/server/nodes/parsenodes.h; do
	[ -f "$root/$h" ] || die "$root/$h missing after unpacking"
done
echo "$want" >"$dir/pins.unpacked"
echo "$root"
