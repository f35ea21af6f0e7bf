#!/usr/bin/env bash
# Compile-checks every CUDA kernel under core/cuda/ for sm_90 (H100/H200)
# without libtorch or a GPU (nvcc 11.8 from Debian's nvidia-cuda-toolkit):
#   scripts/nvcc_check.sh            # each file: nvcc -std=c++17 -arch=sm_90 -I. -c F -o /tmp/...
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-nvcc}
ARCH=${ARCH:-sm_90}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in core/cuda/*.cu; do
  echo "$NVCC -std=c++17 -arch=$ARCH -I. -c $f"
  "$NVCC" -std=c++17 -arch="$ARCH" -I. -Xcompiler -Wall -c "$f" -o "$out/$(basename "$f").o"
done
echo "nvcc_check: all kernels compile for $ARCH"
