#!/usr/bin/env bash
# Everything hrm does on a GPU, checked in one command (under 8 minutes on one
# H200), from the project root of a CUDA machine with a CUDA PyTorch:
#   scripts/gpu_kit.sh       # here: .gpu-kit/, the Debian packages the machine lacks
#   source .gpu-kit/env.sh   # there, then:
#   scripts/gpu_check.sh [--cpu-dry]
# Steps, each timed and reported PASS/FAIL in one summary at the end:
#   build     hrm and every test binary against the Python PyTorch's libtorch
#   gpu-tests the GPU-gated tests (ctest -R Cuda: names with Cuda, skipped without a GPU)
#   nccl      NCCL init + all-reduce at world size 1, and 2 ranks where 2 GPUs exist
#   smoke     `hrm sweep grids/equal_param.yaml --profile smoke --gpus 0`
#   latency   grids/latency.yaml at --profile paper --gpus 0, then `hrm report table10`
#   genspeed  grids/genspeed.yaml at --profile paper --gpus 0, then `hrm report table16`
#   bench     bench/gpu_bench.sh, short: $GPU_BENCH_ARGS, default "--steps 3 --warmup 1
#             --no-compile" (torch.compile's minutes of compiling would not fit; run
#             bench/gpu_bench.sh alone for the compiled twin)
# Logs go to $OUT when set (the device tool's folder), else /tmp/hrm-gpu-check:
# build.log, tests.log, smoke.log, paper.log, tables.md, bench.log,
# gpu_bench.jsonl, summary.txt. Exit status: the number of failed steps.
# --cpu-dry runs the same steps on a machine without a GPU (the existing
# build/, smoke profiles, no --gpus) so that the script itself is checked.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DRY=0
[ "${1:-}" = --cpu-dry ] && DRY=1
LOGS=${OUT:-/tmp/hrm-gpu-check}
mkdir -p "$LOGS"
WORK=$(mktemp -d /tmp/hrm-gpu-check.XXXXXX)
STORE=$WORK/hrm.db
SUMMARY=$LOGS/summary.txt
: >"$SUMMARY"
FAILED=0

if [ "$DRY" = 1 ]; then
  BUILD=${BUILD:-build}
  GPUS=()
  PAPER=smoke
  JOBS=2
  TARGETS="--target hrm train_step_bench protocol_tests ddp_tests"
  SLOW=8  # a shared 2-core CPU: genspeed@smoke alone takes minutes there
else
  BUILD=${BUILD:-/tmp/hrm-gpu-build}
  GPUS=(--gpus 0)
  PAPER=paper
  JOBS=$(nproc)
  TARGETS=""  # everything: the GPU-gated tests live in several test binaries
  SLOW=1
  [ -f .gpu-kit/env.sh ] && [ -z "${TORCH_PREFIX:-}" ] && source .gpu-kit/env.sh
  export CMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
fi
HRM=$BUILD/hrm

# step NAME TIMEOUT_S LOG COMMAND...: runs COMMAND with its output appended
# to LOG, and records PASS/FAIL and the seconds it took.
step() {
  local name=$1 limit=$2 log=$3
  shift 3
  local t0=$SECONDS rc
  echo "== $name: $*" >>"$log"
  limit=$((limit * SLOW))
  timeout --kill-after=10 "$limit" bash -c "$*" >>"$log" 2>&1
  rc=$?
  local verdict=PASS
  [ $rc -eq 0 ] || { verdict="FAIL (exit $rc$([ $rc -eq 124 ] && echo ", over ${limit}s"))"; FAILED=$((FAILED + 1)); }
  printf "%-9s %-28s %4ds  log: %s\n" "$name" "$verdict" $((SECONDS - t0)) "$(basename "$log")" |
    tee -a "$SUMMARY"
}

echo "hrm GPU check: $(date -u +%FT%TZ), $([ "$DRY" = 1 ] && echo 'CPU dry run' ||
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)" | tee -a "$SUMMARY"

step build 300 "$LOGS/build.log" \
  "{ [ -f '$BUILD/build.ninja' ] || cmake -S '$ROOT' -B '$BUILD' -G Ninja -DCMAKE_BUILD_TYPE=Release; } &&
   cmake --build '$BUILD' -j$JOBS $TARGETS"

step gpu-tests 180 "$LOGS/tests.log" \
  "ctest --test-dir '$BUILD' -R Cuda -E NcclCuda --output-on-failure"

step nccl 120 "$LOGS/tests.log" \
  "ctest --test-dir '$BUILD' -R NcclCuda --output-on-failure --verbose | grep -E 'OK|SKIP|FAIL|Passed|Failed|tests passed'"

step smoke 120 "$LOGS/smoke.log" \
  "'$HRM' sweep grids/equal_param.yaml --profile smoke ${GPUS[*]} --store '$STORE' &&
   '$HRM' report table6 --store '$STORE' --format md"

step latency 150 "$LOGS/paper.log" \
  "'$HRM' sweep grids/latency.yaml --profile $PAPER ${GPUS[*]} --store '$STORE' &&
   '$HRM' report table10 --store '$STORE' --format md | tee -a '$LOGS/tables.md'"

step genspeed 150 "$LOGS/paper.log" \
  "'$HRM' sweep grids/genspeed.yaml --profile $PAPER ${GPUS[*]} --store '$STORE' &&
   '$HRM' report table16 --store '$STORE' --format md | tee -a '$LOGS/tables.md'"

if [ "$DRY" = 1 ]; then
  step bench 300 "$LOGS/bench.log" \
    "OUT='$LOGS' BUILD='$BUILD' bench/gpu_bench.sh --cpu-dry --steps 1 --warmup 1"
else
  step bench 180 "$LOGS/bench.log" \
    "OUT='$LOGS' BUILD='$BUILD' bench/gpu_bench.sh ${GPU_BENCH_ARGS:---steps 3 --warmup 1 --no-compile}"
fi

echo "$FAILED step(s) failed; logs in $LOGS" | tee -a "$SUMMARY"
rm -rf "$WORK"
exit "$FAILED"
