#!/usr/bin/env bash
# Builds the release JSONSchemaBench, runs it and Python's jsonschema on the same 1,000 documents,
# and prints the per-document medians side by side with the speedup.
# Usage: bench/jsonschema/run.sh [swift-rounds] [python-rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
SWIFT_ROUNDS="${1:-30}"
PY_ROUNDS="${2:-3}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

swift build -c release --static-swift-stdlib --product JSONSchemaBench >&2
# Debian's python3-jsonschema (make bench installs it); pip only where that is allowed.
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install --quiet jsonschema >&2

SWIFT_OUT="$(.build/release/JSONSchemaBench "$OUT" "$SWIFT_ROUNDS")"
echo "$SWIFT_OUT"
PY_OUT="$(python3 bench/jsonschema/bench.py "$OUT" "$PY_ROUNDS")"
echo "$PY_OUT"

field() { echo "$1" | grep '^RESULT' | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }
SV="$(field "$SWIFT_OUT" validate_ns)"; SQ="$(field "$SWIFT_OUT" is_valid_ns)"; SI="$(field "$SWIFT_OUT" invalid)"
PV="$(field "$PY_OUT" validate_ns)"; PQ="$(field "$PY_OUT" is_valid_ns)"; PI="$(field "$PY_OUT" invalid)"
python3 - "$SV" "$SQ" "$PV" "$PQ" "$SI" "$PI" <<'PY'
import sys
sv, sq, pv, pq, si, pi = (int(x) for x in sys.argv[1:])
print(f"side by side (median per document): validate swift {sv/1000:.1f} us vs python {pv/1000:.1f} us = {pv/sv:.1f}x faster; "
      f"isValid swift {sq/1000:.1f} us vs python {pq/1000:.1f} us = {pq/sq:.1f}x faster; invalid docs swift {si}, python {pi}")
if si != pi:
    print("WARNING: the validators disagree on how many documents are invalid")
PY
