// Starts the ranks of a one-machine data-parallel run as child processes of
// this one, the way torchrun does. Torch-free.
#pragma once

#include <chrono>

namespace hrm {

// Runs `world_size` copies of this program (/proc/self/exe, the same
// arguments) with torchrun's environment added: RANK, LOCAL_RANK,
// WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free
// MASTER_PORT; CUDA_VISIBLE_DEVICES is left as it is. Each rank runs in its
// own process group with stdin from /dev/null and this process's stdout and
// stderr, and dies with this process. SIGINT, SIGTERM and SIGUSR1 received
// meanwhile are passed on to every rank. When a rank fails, the others get
// SIGTERM (and SIGCONT, so that a stopped rank acts on it), then SIGKILL
// after `grace`. Returns 0 when every rank exits 0,
// else the first failure's exit code (128 + the signal for a rank killed by
// one), or 1 when the ranks cannot be started.
int LaunchRanks(int world_size, std::chrono::milliseconds grace = std::chrono::seconds(30));

}  // namespace hrm
