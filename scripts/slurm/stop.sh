#!/bin/bash
# Stops the daemons scripts/slurm/start.sh started, by their pid files under
# $HRM_SLURM_DIR (default /var/tmp/hrm-slurm), in reverse start order.
DIR=${HRM_SLURM_DIR:-/var/tmp/hrm-slurm}
for f in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
  [ -s "$f" ] || continue
  p=$(cat "$f")
  if kill "$p" 2>/dev/null; then
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    echo "stopped $p ($f)"
  fi
  rm -f "$f"
done
