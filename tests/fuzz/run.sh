#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time with a corpus seeded from
# the shared vectors and example events (or the copies kept in the repo).
#
# usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs cargo-fuzz (installed here if missing). The machine has one stable
# toolchain, so the sanitizer flags are enabled with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(verify envelope fold)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

shared=../../../shared
vectors=$shared/vectors/standard-webhooks.json
[ -f "$vectors" ] || vectors=../../crates/webhook-verify/tests/standard-webhooks.json
examples=$shared/events/agentsync-examples.json
[ -f "$examples" ] || examples=../../crates/events/src/agentsync-examples.json

python3 - "$vectors" "$examples" <<'PY'
import json, os, sys
vectors, examples = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for name in ("verify", "envelope", "fold"):
    os.makedirs(f"corpus/{name}", exist_ok=True)
for i, case in enumerate(vectors):
    seed = "\n".join([case["msg_id"], case["timestamp"], case["signature"], case.get("payload") or ""])
    open(f"corpus/verify/vector-{i:03}", "w").write(seed)
for i, example in enumerate(examples["events"]):
    open(f"corpus/envelope/example-{i:03}", "w").write(json.dumps(example["envelope"]))
    open(f"corpus/fold/example-{i:03}", "wb").write(json.dumps(example["envelope"]).encode())
PY

for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1
done
