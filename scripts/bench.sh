#!/usr/bin/env bash
# make bench: the QA scenarios (click-to-photon latency, bandwidth, frame rate, VMAF) and
# the Go benchmarks of every package, all written into one folder:
#
#   $out/scenarios/summary.md        the scenarios against the product's published targets
#   $out/scenarios/results.json      every scenario's numbers (one <scenario>.json each too)
#   $out/scenarios/*.png             latency CDF, bitrate, VMAF, fps, latency breakdown
#   $out/scenarios-net/              the same for a few scenarios over an emulated network
#   $out/go-bench.txt                go test -bench output
#
# Knobs (environment): BENCH_DURATION (15s), BENCH_SIZE (1920x1080), BENCH_CODEC (server's
# choice), BENCH_NET (none; e.g. 10mbit,20ms,0.5%), BENCH_SCENARIOS (the standard set),
# BENCH_NET_SCENARIOS (fileops web; empty to skip) and BENCH_NET_SPEC (10mbit,20ms,0.5%) for
# the emulated-network pass, BENCH_GO_PKGS (./...), BENCH_SKIP_GO (set to skip the Go
# benchmarks).
# Go benchmarks compare against a baseline measured in the same run; read ratios, not
# absolutes.
set -euo pipefail
out=${1:-bench-results}
cd "$(dirname "$0")/.."
mkdir -p "$out/scenarios"
bin=bin/shadowless
go build -o "$bin" ./reference/cmd/shadowless # cached when make already built it
size=${BENCH_SIZE:-1920x1080}
args=(--duration "${BENCH_DURATION:-15s}" --width "${size%x*}" --height "${size#*x}" --out "$out/scenarios")
[ -n "${BENCH_CODEC:-}" ] && args+=(--codec "$BENCH_CODEC")
[ -n "${BENCH_NET:-}" ] && args+=(--net "$BENCH_NET")
scenarios=${BENCH_SCENARIOS:-all}
echo "== scenarios ($scenarios) -> $out/scenarios"
status=0
# shellcheck disable=SC2086
"$bin" bench $scenarios "${args[@]}" || status=1
netscen=${BENCH_NET_SCENARIOS-fileops web}
if [ -n "$netscen" ]; then
	spec=${BENCH_NET_SPEC:-10mbit,20ms,0.5%}
	mkdir -p "$out/scenarios-net"
	echo "== scenarios over an emulated network ($spec): $netscen -> $out/scenarios-net"
	netargs=(--duration "${BENCH_DURATION:-15s}" --width "${size%x*}" --height "${size#*x}" --out "$out/scenarios-net" --net "$spec")
	[ -n "${BENCH_CODEC:-}" ] && netargs+=(--codec "$BENCH_CODEC")
	# shellcheck disable=SC2086
	"$bin" bench $netscen "${netargs[@]}" || status=1
fi
if [ -z "${BENCH_SKIP_GO:-}" ]; then
	echo "== go benchmarks -> $out/go-bench.txt"
	# shellcheck disable=SC2086
	go test -run '^$' -bench . -benchmem -count 1 -timeout 60m ${BENCH_GO_PKGS:-./...} | tee "$out/go-bench.txt" || status=1
fi
echo "== done: $out/scenarios/summary.md (+ scenarios-net/), plots beside them, $out/go-bench.txt"
[ "$status" = 0 ] || echo "== some runs failed (see above)" >&2
exit "$status"
