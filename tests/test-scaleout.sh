#!/usr/bin/env bash
# Scale-out on the real engines (TAP): the --emit-slurm script of a small sweep submitted
# to a one-node Slurm this test stands up (slurmctld + slurmd from Debian's packages,
# auth/none on the loopback, its own ports and spool in a temporary directory, stopped
# when the test ends), and the --emit-jobs list run by GNU parallel --sshloginfile against
# an sshd the test starts on 127.0.0.1 with a throwaway key. Each merged database must
# equal the built-in sweep's run for run (every scalar but wall-clock ones). A part that
# cannot run here (not root, packages missing) is skipped with the reason.
#   M2MSIM, FAKE_M2MSIM, M2M_SRCDIR: from meson (tests/meson.build).
set -uo pipefail
m2msim=${M2MSIM:?} fake=${FAKE_M2MSIM:?} src=${M2M_SRCDIR:?}
tmp=$(mktemp -d /tmp/m2m-scaleout-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "1..7"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# A free TCP port on the loopback.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

scn="$src/scenarios/quickstart.yaml"
sweep_args=(sweep "$scn" --m2msim "$fake" --vary registration_service.pimsi_pool.size=1000,2000,4000
  --replications 2)
# The reference: the built-in sweep of the same runs.
"$m2msim" "${sweep_args[@]}" -j 2 -o "$tmp/ref.db" >/dev/null 2>"$tmp/ref.err" ||
  { echo "Bail out! the built-in sweep failed: $(tail -1 "$tmp/ref.err")"; exit 1; }

# Every run's scalars, wall-clock ones left out, keyed by pool size and replication.
dump() {
  sqlite3 "$1" "SELECT p.value, r.replication, s.name, s.value FROM run r
    JOIN param p ON p.run_id = r.id AND p.key = 'registration_service.pimsi_pool.size'
    JOIN scalar s ON s.run_id = r.id WHERE s.name NOT LIKE '%wall_s'
    ORDER BY p.value, r.replication, s.name"
}
same_as_ref() { # DB: equal to the reference run for run, 6 runs
  local runs; runs=$(sqlite3 "$1" 'SELECT count(*) FROM run' 2>&1)
  [ "$runs" = 6 ] || { echo "$1: $runs runs, not 6" >"$tmp/diff"; return 1; }
  diff <(dump "$tmp/ref.db") <(dump "$1") >"$tmp/diff" 2>&1
}

# merged_ok NAME ENGINE_LOG OK_TEXT: the 6 parts of $tmp/NAME.db.parts written by an engine
# (counted first: the sweep command would run a missing one itself), merged by the same
# sweep command without the engine, equal to the built-in sweep run for run.
merged_ok() {
  local what=$1 log=$2 text=$3 db="$tmp/$1.db"
  local parts; parts=$(ls "$db.parts"/run-*.db 2>/dev/null | wc -l)
  [ "$parts" = 6 ] || { notok "$what" "$parts of 6 parts written" "$(tail -5 "$log")"; return 1; }
  "$m2msim" "${sweep_args[@]}" -o "$db" >/dev/null 2>"$d/merge.err" ||
    { notok "$what" "merging the parts failed" "$(cat "$d/merge.err")"; return 1; }
  if same_as_ref "$db"; then
    ok "$text"
  else
    notok "$what" "not the built-in sweep's runs" "$(head -5 "$tmp/diff" 2>/dev/null)" "$(cat "$d/merge.err")"
  fi
}

# ---- Slurm ------------------------------------------------------------------------------
slurm_test() {
  local missing=""
  for b in slurmctld slurmd sbatch sinfo scontrol; do command -v "$b" >/dev/null || missing+=" $b"; done
  if [ -n "$missing" ]; then skip "Slurm array" "not installed:$missing (apt-get install slurmctld slurmd slurm-client)"; return; fi
  if [ "$(id -u)" != 0 ]; then skip "Slurm array" "slurmd must run as root to start jobs"; return; fi
  local d="$tmp/slurm" host; host=$(hostname -s)
  mkdir -p "$d/state" "$d/spool"
  cat >"$d/slurm.conf" <<EOF
ClusterName=m2mtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(port)
SlurmdPort=$(port)
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=m2m Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$d/slurm.conf"
  slurmctld -D -i -f "$SLURM_CONF" >"$d/ctld.out" 2>&1 & pids+=($!)
  slurmd -D -f "$SLURM_CONF" -N "$host" >"$d/d.out" 2>&1 & pids+=($!)
  local up=""
  for _ in $(seq 100); do
    sinfo -h -o '%T' 2>/dev/null | grep -qE '^idle' && { up=1; break; }
    sleep 0.2
  done
  if [ -z "$up" ]; then
    notok "Slurm array" "the one-node Slurm did not come up" "$(tail -3 "$d/slurmctld.log" "$d/slurmd.log" 2>/dev/null)"
    return
  fi
  "$m2msim" "${sweep_args[@]}" -o "$tmp/slurm.db" --emit-slurm "$d/sweep.sbatch" >/dev/null 2>&1 ||
    { notok "Slurm array" "--emit-slurm failed"; return; }
  if ! timeout 300 sbatch --wait -Q "$d/sweep.sbatch" >"$d/sbatch.out" 2>&1; then
    notok "Slurm array" "sbatch --wait failed" "$(cat "$d/sbatch.out")" "$(ls "$tmp/slurm.db.parts" | head)"
    return
  fi
  # the same sweep command without --emit-slurm merges the parts Slurm wrote
  cat "$d/sbatch.out" "$tmp/slurm.db.parts"/slurm-*.out >"$d/slurm.log" 2>/dev/null
  merged_ok slurm "$d/slurm.log" \
    "Slurm array: sbatch --wait ran all 6 runs; merged database equals the built-in sweep's" ||
    return
  # The adaptive studies on Slurm: each round one array job, waited for. The same answer
  # as here, and a failed run's exit status reaches Slurm (and m2msim says so).
  local solve_args=(solve "$scn" --m2msim "$fake" --param registration_service.av_servers
    --range 1..16 --target 'rs.av.wait_mean < 0.62ms')
  local a_local a_slurm
  a_local=$("$m2msim" "${solve_args[@]}" -j 2 -o "$tmp/solve-local.db" 2>/dev/null | head -1)
  a_slurm=$("$m2msim" "${solve_args[@]}" --engine slurm -o "$tmp/solve-slurm.db" 2>"$d/solve.err" | head -1)
  local fail_seed; fail_seed=$(sqlite3 "$tmp/ref.db" 'SELECT seed FROM run WHERE replication = 1 LIMIT 1')
  if [ "$a_local" = "answer: registration_service.av_servers=4" ] && [ "$a_slurm" = "$a_local" ] &&
     grep -q "runs through sbatch --wait" "$d/solve.err" &&
     [ "$(sqlite3 "$tmp/solve-slurm.db" 'SELECT count(*) FROM run')" = 18 ]; then
    ok "solve --engine slurm: each round submitted with sbatch --wait, the same answer as locally ($a_slurm)"
  else
    notok "solve --engine slurm" "local '$a_local', slurm '$a_slurm'" "$(tail -3 "$d/solve.err")"
  fi
  rm -rf "$tmp/fail.db" "$tmp/fail.db.parts"
  FAKE_M2MSIM_FAIL_SEED=$fail_seed "$m2msim" "${sweep_args[@]}" --engine slurm -o "$tmp/fail.db" \
    >/dev/null 2>"$d/fail.err"
  local st=$?
  if [ $st = 1 ] && grep -q "wrote no results" "$d/fail.err" && grep -q "exit status [1-9]" "$d/fail.err" &&
     [ ! -e "$tmp/fail.db" ]; then
    ok "a failed run fails its Slurm task: sbatch --wait reports it, the sweep stops with status 1, nothing merged"
  else
    notok "failed run under Slurm" "status $st" "$(cat "$d/fail.err")"
  fi
}

# ---- GNU parallel over SSH ---------------------------------------------------------------
ssh_test() {
  local missing=""
  for b in parallel ssh ssh-keygen /usr/sbin/sshd; do command -v "$b" >/dev/null || missing+=" $b"; done
  if [ -n "$missing" ]; then skip "GNU parallel over SSH" "not installed:$missing (apt-get install parallel openssh-server openssh-client)"; return; fi
  if [ "$(id -u)" != 0 ]; then skip "GNU parallel over SSH" "sshd must start as root"; return; fi
  local d="$tmp/ssh" p; p=$(port)
  mkdir -p "$d" /run/sshd
  chmod 700 "$d"
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$d/user_key"
  cp "$d/user_key.pub" "$d/authorized_keys"
  cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $p
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
  /usr/sbin/sshd -D -e -f "$d/sshd_config" >"$d/sshd.log" 2>&1 & pids+=($!)
  local sshcmd="ssh -p $p -i $d/user_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
  local up=""
  for _ in $(seq 50); do
    $sshcmd "$(id -un)@127.0.0.1" true 2>/dev/null && { up=1; break; }
    sleep 0.2
  done
  if [ -z "$up" ]; then notok "GNU parallel over SSH" "sshd did not come up" "$(tail -3 "$d/sshd.log")"; return; fi
  "$m2msim" "${sweep_args[@]}" -o "$tmp/ssh.db" --emit-jobs "$d/jobs.txt" >/dev/null 2>&1 ||
    { notok "GNU parallel over SSH" "--emit-jobs failed"; return; }
  echo "2/$(id -un)@127.0.0.1" >"$d/sshlogins"
  if ! parallel --will-cite --ssh "$sshcmd" --sshloginfile "$d/sshlogins" <"$d/jobs.txt" >"$d/parallel.out" 2>&1; then
    notok "GNU parallel over SSH" "parallel failed" "$(tail -3 "$d/parallel.out")"
    return
  fi
  merged_ok ssh "$d/parallel.out" \
    "GNU parallel --sshloginfile over sshd on the loopback ran all 6 runs; merged database equals the built-in sweep's" ||
    return
  local a
  a=$("$m2msim" solve "$scn" --m2msim "$fake" --param registration_service.av_servers --range 1..16 \
    --target 'rs.av.wait_mean < 0.62ms' --engine parallel --sshloginfile "$d/sshlogins" \
    --ssh "$sshcmd" -o "$tmp/solve-ssh.db" 2>"$d/solve.err" | head -1)
  if [ "$a" = "answer: registration_service.av_servers=4" ] && grep -q "runs through GNU parallel" "$d/solve.err"; then
    ok "solve --engine parallel over the sshd: the same answer ($a)"
  else
    notok "solve --engine parallel" "got '$a'" "$(tail -3 "$d/solve.err")"
  fi
  # sweep --precision: its rounds on the same engine, the same replications per point
  local pargs=(sweep "$scn" --m2msim "$fake" --vary registration_service.av_servers=2,8
    --precision 0.02 --precision-of rs.av.wait_mean --max-replications 12)
  local p_local p_ssh
  p_local=$("$m2msim" "${pargs[@]}" -j 2 -o "$tmp/prec-local.db" 2>/dev/null | grep "^registration_service")
  p_ssh=$("$m2msim" "${pargs[@]}" --engine parallel --sshloginfile "$d/sshlogins" --ssh "$sshcmd" \
    -o "$tmp/prec-ssh.db" 2>"$d/prec.err" | grep "^registration_service")
  if [ -n "$p_local" ] && [ "$p_local" = "$p_ssh" ] && [ "$(grep -c "runs through GNU parallel" "$d/prec.err")" -ge 2 ]; then
    ok "sweep --precision --engine parallel: two rounds over the sshd, the same replications and figures as locally"
  else
    notok "sweep --precision --engine parallel" "local: $p_local" "ssh: $p_ssh" "$(tail -3 "$d/prec.err")"
  fi
}

# ---- Slurm's array limit ------------------------------------------------------------------
# Arrays above MaxArraySize (1001 by default) are refused by sbatch: a longer job list runs
# as 1,000 tasks, each taking every 1,000th line.
array_limit_test() {
  "$m2msim" sweep "$scn" --m2msim "$fake" --vary registration_service.av_servers=1,2 \
    --replications 501 -o "$tmp/big.db" --emit-slurm "$tmp/big.sbatch" >/dev/null 2>&1
  if grep -q '^#SBATCH --array=1-1000$' "$tmp/big.sbatch" && grep -q '^lines=1002$' "$tmp/big.sbatch" &&
     [ "$(wc -l <"$tmp/big.db.parts/jobs.txt")" = 1002 ]; then
    ok "1,002 runs emitted as an array of 1,000 tasks (Slurm's default MaxArraySize is 1,001)"
  else
    notok "array limit" "$(grep -E 'array|lines=' "$tmp/big.sbatch")"
  fi
}

slurm_test
ssh_test
array_limit_test
