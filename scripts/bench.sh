#!/usr/bin/env bash
# make bench: the QA scenarios (click-to-photon latency, bandwidth, frame rate, VMAF) and
# the Go benchmarks of every package, all written into one folder:
#
#   $out/scenarios/summary.md        the scenarios against the product's published targets
#   $out/scenarios/results.json      every scenario's numbers (one <scenario>.json each too)
#   $out/scenarios/*.png             latency CDF, bitrate, VMAF, fps, latency breakdown
#   $out/net-*/                      the same over emulated networks (one folder a pass)
#   $out/go-bench.txt                go test -bench output
#
# The emulated-network passes are the figures issue #4 names: office over 10 Mbit/s +20 ms,
# latency under a 2 Mbit/s link, web and file operations over a lossy link, and the time
# until the picture is whole after a 1 s burst of 10% loss.
#
# Knobs (environment): BENCH_DURATION (15s), BENCH_SIZE (1920x1080), BENCH_CODEC (server's
# choice), BENCH_NET (none; an emulated network for the loopback pass too), BENCH_SCENARIOS
# (the standard set), BENCH_NET_PASSES (newline-separated "name|rate,delay,loss|scenarios|extra
# flags"; empty to skip), BENCH_GO_PKGS (./...), BENCH_SKIP_GO (set to skip the Go
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
default_passes='net-10mbit|10mbit,20ms,0%|fileops typing|
net-2mbit|2mbit,20ms,0%|fileops typing|
net-lossy|10mbit,20ms,0.5%|fileops web|
net-lossburst|10mbit,20ms,0%|fileops web|--loss-burst 1s,10%,3s'
passes=${BENCH_NET_PASSES-$default_passes}
while IFS='|' read -r name spec netscen extra; do
	[ -n "$name" ] || continue
	mkdir -p "$out/$name"
	echo "== $name: $netscen over an emulated network ($spec${extra:+, $extra}) -> $out/$name"
	netargs=(--duration "${BENCH_DURATION:-15s}" --width "${size%x*}" --height "${size#*x}" --out "$out/$name" --net "$spec")
	[ -n "${BENCH_CODEC:-}" ] && netargs+=(--codec "$BENCH_CODEC")
	# shellcheck disable=SC2086
	"$bin" bench $netscen "${netargs[@]}" $extra || status=1
done <<<"$passes"
if [ -z "${BENCH_SKIP_GO:-}" ]; then
	echo "== go benchmarks -> $out/go-bench.txt"
	# shellcheck disable=SC2086
	go test -run '^$' -bench . -benchmem -count 1 -timeout 60m ${BENCH_GO_PKGS:-./...} | tee "$out/go-bench.txt" || status=1
fi
echo "== done: $out/scenarios/summary.md (+ net-*/), plots beside them, $out/go-bench.txt"
[ "$status" = 0 ] || echo "== some runs failed (see above)" >&2
exit "$status"
