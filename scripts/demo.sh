#!/bin/sh
# demo.sh: train centroids on testdata/demo/sample.txt, write a plugin
# config, load build/libvecshard.so into the C test host the way PgDog does,
# and route a handful of statements: similarity searches, inserts, id
# lookups and a few statements vecshard refuses. Prints every decision and
# the count per shard.
#
# Run from the repository root (make demo does). It uses build/libvecshard.so
# and build/vecshard-host (make build), building them if they are missing, and
# build/train-centroids if present (else `go run ./cmd/train-centroids`).
# BUILD=dir overrides build/; KEEP=1 keeps the work directory.
set -eu

BUILD=${BUILD:-build}
SAMPLE=testdata/demo/sample.txt
SHARDS=4
K=8

[ -f "$SAMPLE" ] || { echo "demo: run from the repository root ($SAMPLE not found)" >&2; exit 2; }

mkdir -p "$BUILD"
if [ ! -f "$BUILD/libvecshard.so" ]; then
	echo "demo: building $BUILD/libvecshard.so"
	go build -buildmode=c-shared -o "$BUILD/libvecshard.so" ./plugin
fi
if [ ! -x "$BUILD/vecshard-host" ]; then
	echo "demo: building $BUILD/vecshard-host"
	gcc -O2 -Wall -Wextra -pthread -o "$BUILD/vecshard-host" plugin/hosttest/host.c -ldl
fi

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
$TRAIN --input "$SAMPLE" --k "$K" --shards "$SHARDS" --seed 1 --out "$WORK/centroids.json"

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

# 3. The statements, in the host's script format (shards, query, params,
# expect; "*" accepts any decision). Vectors are sample lines.
v() { sed -n "${1}p" "$SAMPLE"; }
TAB=$(printf '\t')
{
	echo "# similarity searches (extended protocol, text parameter)"
	for n in 1 2 3 4 5 6 7 8; do
		echo "$SHARDS${TAB}SELECT id FROM items ORDER BY embedding <=> \$1 LIMIT 10${TAB}t:$(v $n)${TAB}*"
	done
	echo "# a search with the vector as a literal (simple protocol)"
	echo "$SHARDS${TAB}SELECT id FROM items ORDER BY embedding <=> '$(v 9)' LIMIT 5${TAB}-${TAB}*"
	echo "# inserts: each row goes to its vector's shard"
	for n in 10 11 12 13; do
		echo "$SHARDS${TAB}INSERT INTO items (id, embedding) VALUES (\$1, \$2)${TAB}t:$n|t:$(v $n)${TAB}*"
	done
	echo "# id lookups and writes on an id-sharded table"
	for id in 1 2 3 42 1000 -1; do
		echo "$SHARDS${TAB}SELECT * FROM users WHERE id = \$1${TAB}t:$id${TAB}*"
	done
	echo "$SHARDS${TAB}UPDATE users SET name = 'ann' WHERE id = 42${TAB}-${TAB}*"
	echo "# no key: every shard; not ours: PgDog decides"
	echo "$SHARDS${TAB}SELECT count(*) FROM items${TAB}-${TAB}all read"
	echo "$SHARDS${TAB}SELECT now()${TAB}-${TAB}none"
	echo "# refused statements"
	echo "$SHARDS${TAB}SELECT id FROM items ORDER BY embedding <=> \$1 LIMIT 10${TAB}t:[1,2,3]${TAB}error 22000"
	echo "$SHARDS${TAB}SELECT id FROM items ORDER BY embedding <=> \$1 LIMIT 10${TAB}t:[1,2${TAB}error 22P02"
	echo "$SHARDS${TAB}COPY items FROM STDIN${TAB}-${TAB}error"
	echo "$SHARDS${TAB}/* pgdog_shard: 7 */ SELECT * FROM items${TAB}-${TAB}error"
} > "$WORK/demo.tsv"

# 4. Route them. The tunable gives the library the static TLS it needs
# (PgDog needs it too; see the README).
echo "== routing $(grep -vc '^#' "$WORK/demo.tsv") statements through $BUILD/libvecshard.so"
GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.rtld.optional_static_tls=4096} \
VECSHARD_CONFIG="$WORK/vecshard.toml" \
	"$BUILD/vecshard-host" --show-query "$BUILD/libvecshard.so" "$WORK/demo.tsv"
