#!/usr/bin/env bash
# Prepares .gpu-kit/ for the device machine (PyTorch + CUDA, none of our Debian packages):
# the shared kit (../shared/gpu/make-kit.sh) plus what this project needs beyond it —
# Boost 1.81's headers (Beast and URL for `hrm serve`, Process for the subprocess module)
# and libcrypto (checkpoint and config hashing), should the machine lack it.
# Run from the project root after `make deps`; then carry [".gpu-kit", "third_party"] and run
# `source .gpu-kit/env.sh && scripts/gpu_check.sh` there (env.sh unpacks every .deb it carries).
set -eu
cd "$(dirname "$0")/.."
bash ../shared/gpu/make-kit.sh
(cd .gpu-kit/debs && apt-get download -q libboost1.81-dev libssl3 >/dev/null)
du -sh .gpu-kit
