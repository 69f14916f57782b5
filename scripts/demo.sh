#!/bin/sh
# demo.sh: train centroids on testdata/demo/sample.txt, write a plugin
# config, load build/libvecshard.so into a host that loads and calls it as
# today's PgDog does (build/pgdog-host), and route
# testdata/demo/statements.tsv: similarity searches, inserts, id lookups and
# statements vecshard refuses, each parsed with PostgreSQL 18's grammar as
# PgDog does. Every decision is checked against one the demo computes
# without the router (internal/cmd/demo).
#
# Run from the repository root: make demo builds what it needs first.
# BUILD=dir overrides build/; KEEP=1 keeps the work directory.
set -eu

BUILD=${BUILD:-build}
SAMPLE=testdata/demo/sample.txt
SHARDS=4
K=8

[ -f "$SAMPLE" ] || { echo "demo: run from the repository root ($SAMPLE not found)" >&2; exit 2; }

for f in libvecshard.so pgdog-host; do
	[ -e "$BUILD/$f" ] || { echo "demo: $BUILD/$f is missing: run make demo" >&2; exit 2; }
done
HOST="$BUILD/pgdog-host"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vecshard-demo.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "demo: keeping $WORK"
else
	trap 'rm -rf "$WORK"' EXIT
fi

# 1. Train: k centroids spread over the shards.
echo "== training $K centroids for $SHARDS shards on $SAMPLE ($(wc -l < "$SAMPLE") vectors)"
if [ -x "$BUILD/train-centroids" ]; then
	TRAIN="$BUILD/train-centroids"
else
	TRAIN="go run ./cmd/train-centroids"
fi
$TRAIN --quiet --input "$SAMPLE" --k "$K" --shards "$SHARDS" --seed 1 --out "$WORK/centroids.json" --pgdog-out "$WORK/pgdog-centroids.json"

# 2. The plugin's config.
cat > "$WORK/vecshard.toml" <<EOF
shards = $SHARDS

[[tables]]
name = "items"
key = "vector"
vector_column = "embedding"
centroids = "centroids.json"
metric = "cosine"
id_column = "id"

[[tables]]
name = "users"
key = "id"
id_column = "id"
id_type = "bigint"
EOF
echo "== config $WORK/vecshard.toml"

# 3. Route the statements through today's ABI, with no environment
# tricks: no GLIBC_TUNABLES, no VECSHARD_* variable; PgDog's config names the
# plugin's config.
echo "== routing testdata/demo/statements.tsv through $BUILD/libvecshard.so in $HOST"
echo "== building the demo's checker (internal/cmd/demo) into $WORK"
go build -o "$WORK/demo" ./internal/cmd/demo
env -u GLIBC_TUNABLES -u VECSHARD_CONFIG -u VECSHARD_RUSTC_VERSION \
	"$WORK/demo" -host "$HOST" -lib-dir "$BUILD" -config "$WORK/vecshard.toml" \
	-centroids "$WORK/centroids.json" -sample "$SAMPLE" -statements testdata/demo/statements.tsv -shards "$SHARDS"

# 4. PgDog's side: the README's pgdog.toml (testdata/demo) beside this config,
# read from the work directory as PgDog reads relative paths from its own.
echo "== vecshard check --pgdog pgdog.toml (testdata/demo/pgdog.toml) in $WORK"
cp testdata/demo/pgdog.toml testdata/demo/users.toml "$WORK/"
go build -o "$WORK/vecshard" ./cmd/vecshard
(cd "$WORK" && ./vecshard check --pgdog pgdog.toml)
