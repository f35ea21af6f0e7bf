#!/bin/bash
# Starts a single-node SLURM cluster (Debian 12's slurm-wlm 22.05 + munge) for
# the tests, all of its state under $HRM_SLURM_DIR (default /var/tmp/hrm-slurm):
# its own munged (own socket and key), slurmctld and slurmd on their own ports,
# so that it neither needs nor disturbs a system SLURM or munge. Run as root;
# no systemd or cgroups needed. Idempotent: when this cluster already answers,
# it returns at once. Prints one word on stdout: "started" (this call started
# the daemons: stop them with stop.sh) or "running" (they were up already).
# Clients find the cluster with SLURM_CONF=$HRM_SLURM_DIR/slurm.conf.
set -euo pipefail
DIR=${HRM_SLURM_DIR:-/var/tmp/hrm-slurm}
NCPU=${HRM_SLURM_CPUS:-8}   # advertised CPUs; may exceed the real cores (config_overrides)
export SLURM_CONF=$DIR/slurm.conf
log() { echo "slurm/start.sh: $*" >&2; }

up() { sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated|completing)'; }
if [ -f "$SLURM_CONF" ] && up; then echo running; exit 0; fi
[ "$(id -u)" = 0 ] || { log "must run as root (starts slurmctld, slurmd and munged)"; exit 1; }
# Test processes may call this at the same time: one starts, the others wait and find it up.
# The daemons are started with fd 9 closed: one that inherited it would hold the lock for
# its whole life, and the next call that finds the node busy would wait on it for ever.
exec 9>"$DIR.start.lock"
flock 9
if [ -f "$SLURM_CONF" ] && up; then echo running; exit 0; fi
for b in munged slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] ||
    { log "$b not found: apt-get install slurm-wlm munge (make deps)"; exit 1; }
done
# A half-started cluster from an earlier call: stop it, start afresh.
bash "$(dirname "$0")/stop.sh" >/dev/null 2>&1 || true

# ---- munge: a private daemon on its own socket, with its own key
install -d -m 0755 "$DIR"
install -d -o munge -g munge -m 0755 "$DIR/munge"
install -d -m 0755 "$DIR/run" "$DIR/log"
KEY=$DIR/munge/munge.key
if [ ! -s "$KEY" ]; then
  dd if=/dev/urandom of="$KEY" bs=1 count=1024 status=none
  chown munge:munge "$KEY"; chmod 400 "$KEY"
fi
SOCK=$DIR/munge/munge.socket
runuser -u munge -- /usr/sbin/munged --socket="$SOCK" --key-file="$KEY" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
  --seed-file="$DIR/munge/munged.seed" 9>&-
munge -S "$SOCK" -n | unmunge -S "$SOCK" >/dev/null

# ---- slurm: fresh state every start (a changed host name in old state is fatal)
rm -rf "$DIR/spool"
mkdir -p "$DIR/spool/ctld" "$DIR/spool/d"
HOST=$(hostname -s)
cat > "$SLURM_CONF" <<CONF
# Written by scripts/slurm/start.sh: a single-node test cluster.
ClusterName=hrmtest
SlurmctldHost=${HOST}(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${SOCK}
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=${DIR}/log/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=${DIR}/spool/ctld
SlurmdSpoolDir=${DIR}/spool/d
SlurmctldPidFile=${DIR}/run/slurmctld.pid
SlurmdPidFile=${DIR}/run/slurmd.pid
SlurmctldLogFile=${DIR}/log/slurmctld.log
SlurmdLogFile=${DIR}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=${DIR}/plugstack.conf
MinJobAge=600
KillWait=10
InactiveLimit=0
Waittime=0
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${NCPU} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
CONF
: > "$DIR/plugstack.conf"
/usr/sbin/slurmctld -f "$SLURM_CONF" 9>&-
/usr/sbin/slurmd -f "$SLURM_CONF" 9>&-
for i in $(seq 1 150); do up && break; sleep 0.2; done
up || { log "the node did not come up; see $DIR/log/"; exit 1; }
log "cluster up: export SLURM_CONF=$SLURM_CONF"
echo started
