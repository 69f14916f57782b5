#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 3s), one at
# a time, on top of the committed seed corpus. Any finding fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-3s}
status=0
while IFS= read -r line; do
	file=${line%%:*}
	name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
	pkg=./$(dirname "$file")
	echo "== fuzz $pkg $name ($fuzztime)"
	if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 2; then
		status=1
	fi
done < <(git ls-files -co --exclude-standard '*_test.go' | xargs grep -H -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' | sort)
exit $status
