#!/usr/bin/env bash
# Runs the Go benchmarks of every package and writes their output to the result folder.
# Benchmarks compare against a baseline measured in the same run; read ratios, not absolutes.
set -euo pipefail
out=${1:-bench-results}
cd "$(dirname "$0")/.."
mkdir -p "$out"
echo "== go benchmarks -> $out/go-bench.txt"
go test -run '^$' -bench . -benchmem -count 1 -timeout 60m ./... | tee "$out/go-bench.txt"
