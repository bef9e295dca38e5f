#!/usr/bin/env bash
# valgrind memcheck over a slice of the core suite with the compiled kernel (issue 23).
#
#   benchmarks/memcheck.sh [pytest arguments...]    (default: the slice below)
#
# Runs with PYTHONMALLOC=malloc (every Python allocation is visible to valgrind) and fails
# when memcheck reports an invalid read or write, a use of uninitialised memory or a
# definitely lost block whose stack passes through airlock._speedups. Errors elsewhere
# (CPython's own start-up and shutdown) are counted and printed, not judged. Python is set by
# $PYTHON (default: python); the kernel must be built (build_ext --inplace or an install).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
command -v valgrind >/dev/null || { echo "memcheck: needs valgrind (apt-get install valgrind)"; exit 2; }
"$python" -c 'import airlock, sys; sys.exit(not airlock.compiled)' || {
  echo "memcheck: airlock.compiled is False here: build the kernel first"; exit 2; }
if [ "$#" -eq 0 ]; then
  set -- tests/test_kernel.py tests/test_kernel_differential.py tests/test_kernel_stages.py \
    tests/test_kernel_policy.py tests/test_kernel_nesting.py tests/test_kernel_observe.py \
    tests/test_enqueue.py tests/test_tick.py tests/test_context.py
fi
log=$(mktemp -d /tmp/airlock-memcheck.XXXXXX)
echo "memcheck: running $* under valgrind (a few minutes); logs: $log/<pid>.log"
status=0
PYTHONMALLOC=malloc AIRLOCK_MEMCHECK=1 valgrind --tool=memcheck --leak-check=full \
  --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40 \
  --log-file="$log/%p.log" "$python" -m pytest -q -p no:cacheprovider -x "$@" || status=$?
"$python" - "$log" "$status" <<'PY'
import re, sys
from pathlib import Path

log, status = Path(sys.argv[1]), int(sys.argv[2])
# one log per process: the test process and any it forks (their records would interleave)
text = "\n\n".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in sorted(log.glob("*.log")))
blocks, current = [], []
for line in text.splitlines():
    body = re.sub(r"^==\d+== ?", "", line)
    if body.strip():
        current.append(body)
    elif current:
        blocks.append(current)
        current = []
if current:
    blocks.append(current)
KINDS = ("Invalid read", "Invalid write", "Invalid free", "uninitialised",
         "definitely lost")
errors = [b for b in blocks if any(k in b[0] for k in KINDS) and not b[0].startswith("Use --")]
ours = [b for b in errors if any("_speedups" in line for line in b)]
summary = [b for b in blocks if b[0].startswith(("ERROR SUMMARY", "LEAK SUMMARY"))]
for b in summary:
    print("memcheck:", " ".join(line.strip() for line in b[:6]))
kinds = {}
for b in errors:
    kind = re.sub(r" of size \d+| in loss record .*|\d[\d,]* bytes in [\d,]* blocks", "", b[0])
    kinds[kind] = kinds.get(kind, 0) + 1
for kind, n in sorted(kinds.items()):
    print(f"memcheck:   {n:4} x {kind.strip()}")
print(f"memcheck: {len(errors)} error record(s) in all, {len(ours)} through airlock._speedups")
for b in ours:
    print("\n".join(b[:25]), end="\n\n")
if status != 0:
    print(f"memcheck: the tests failed under valgrind (exit {status})")
sys.exit(1 if ours or status else 0)
PY
