#!/usr/bin/env bash
# page_size_sweep.sh — how LMM's VM page size trades time against memory: runs the
# native harness's families and churn workloads at VM page sizes 4 KiB … 1 MiB,
# alternating the sizes round by round, and prints the median ns/op and peak RSS.
# This is the measurement behind LMM_DEFAULT_PAGE_SIZE (zig/include/lmm.h).
#   bench/native/page_size_sweep.sh [rounds=5] [ops=1000000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$root"
rounds=${1:-5}
ops=${2:-1000000}
h=bench/out/harness
if [[ ! -x $h ]]; then
	. scripts/bootstrap.sh
	deno run -A bench/native/run.ts --build-only # the one build recipe of the harness
fi
sizes=(4096 16384 65536 262144 1048576)
out=$(mktemp)
for ((r = 0; r < rounds; r++)); do
	for w in families churn; do
		for ps in "${sizes[@]}"; do
			"$h" "$w" lmm --ops "$ops" --page-size "$ps" --no-check >>"$out"
		done
	done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    ps = r.get("page_size") or r.get("lmm_page_size")
    by.setdefault((r["workload"], ps), []).append(r)
print(f"{'workload':10} {'page size':>10} {'ns/op':>8} {'maxrss MiB':>11} {'pages':>7}")
for (w, ps), rs in sorted(by.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
    ns = statistics.median(x["ns_per_op"] for x in rs)
    rss = statistics.median(x["maxrss_kb"] for x in rs) / 1024
    pages = statistics.median(x.get("lmm", {}).get("pages", 0) for x in rs)
    print(f"{w:10} {ps!s:>10} {ns:8.1f} {rss:11.1f} {pages:7.0f}")
PY
rm -f "$out"
