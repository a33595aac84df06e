#!/bin/bash
# examples/slurm/vmeval_array.sbatch on a real single-node Slurm cluster that this test starts:
# munged on a private socket, slurmctld and slurmd on free ports with their state in a temporary
# folder, and a node named after this host with 4 fake GPUs. It submits the script as a 4-task
# array over 8 questions with two baselines and a mock-API model, SIGKILLs the vmeval of task 1
# (the script must requeue it) and sends USR1 to the shell of task 2 (the time-limit warning: a
# clean stop, then a requeue), and checks that every question ends with exactly one successful,
# probing run per model, with nothing unfinished left behind.
#
#   slurm_array_test.sh VMEVAL_BINARY SOURCE_DIR
#
# Needs root (slurmd launches the jobs). Exits 77 (skipped) only when Slurm or munge is not
# installed (Debian: slurm-wlm munge). VMEVAL_KEEP_SLURM_TEST=1 keeps the temporary folder.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
# sbatch hands this environment to the jobs: settings of the caller's own (or of an enclosing Slurm
# job) must not steer the script under test.
for var in $(compgen -e); do
    case $var in
        VMEVAL_KEEP_SLURM_TEST) ;;
        VMEVAL_* | SLURM_* | SBATCH_* | SQUEUE_* | SINFO_*) unset "$var" ;;
    esac
done

vmeval=$(realpath "$1")
src=$(realpath "$2")
sbatch_script=$src/examples/slurm/vmeval_array.sbatch
models=baseline-still,baseline-crossfade,runway-gen4-turbo
tasks=4
killed_task=1
usr1_task=2

for tool in munged slurmctld slurmd sbatch scontrol squeue sinfo scancel ffprobe python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed" \
             "(setup/install_deps.sh installs slurm-wlm, munge and ffmpeg)"
        exit 77
    fi
done
if [[ $(id -u) -ne 0 ]]; then
    echo "FAIL: this test starts slurmd, which must run as root; run it as root or leave it out" \
         "with 'ctest -LE slurm'" >&2
    exit 1
fi

started=$SECONDS
tmp=$(mktemp -d /tmp/vmeval-slurm.XXXXXX)
# munged refuses a socket in a folder that other users cannot enter.
chmod 755 "$tmp"
conf=$tmp/slurm.conf
export SLURM_CONF=$conf
pids=()

log() { echo "[$((SECONDS - started))s] $*"; }

diagnostics() {
    for f in "$tmp"/log/*.log "$tmp"/work/logs/*.log; do
        [[ -f $f ]] || continue
        echo "----- $f (last 40 lines)"
        tail -n 40 "$f"
    done
    squeue 2>/dev/null || true
}

diagnosed=0
fail() {
    echo "FAIL: $*" >&2
    diagnostics >&2
    diagnosed=1
    exit 1
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    # A command that failed under set -e, outside fail().
    (( rc == 0 || rc == 130 || diagnosed )) || diagnostics >&2
    if [[ -f $tmp/slurmctld.pid ]]; then
        scancel --partition=vmeval --full >/dev/null 2>&1
        for _ in $(seq 50); do
            [[ -z $(squeue -h 2>/dev/null) ]] && break
            sleep 0.2
        done
    fi
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    done
    # Whatever still runs with this cluster's SLURM_CONF in its environment (a slurmstepd or a job
    # that outlived its daemons) was started by this test.
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" ]] && continue
        if grep -qzx "SLURM_CONF=$conf" "/proc/$p/environ" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
        fi
    done
    if [[ ${VMEVAL_KEEP_SLURM_TEST:-0} == 1 ]]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s. Every wait also ends within the
# test's budget, well before ctest's TIMEOUT, whose SIGKILL would leave the daemons running.
budget_end=$((started + 240))
wait_until() {
    local limit=$1 what=$2
    shift 2
    local deadline=$((SECONDS + limit))
    (( deadline <= budget_end )) || deadline=$budget_end
    until "$@"; do
        (( SECONDS < deadline )) || fail "timed out after ${limit}s waiting for $what"
        sleep 0.2
    done
}

# --- munge, with a fresh key and its own socket
mkdir -p "$tmp/munge" "$tmp/log" "$tmp/state" "$tmp/spool" "$tmp/dev" "$tmp/work/logs"
chmod 755 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 600 "$tmp/munge/munge.key"
munged --foreground --socket="$tmp/munge/socket" --key-file="$tmp/munge/munge.key" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
    --seed-file="$tmp/munge/seed" >/dev/null 2>&1 &
pids+=($!)
wait_until 10 "munged" test -S "$tmp/munge/socket"

# --- slurm.conf: one node named after this host on 127.0.0.1, no cgroups, no accounting
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("", 0))
print(*[s.getsockname()[1] for s in socks])')
node=$(hostname -s)
# gres/gpu keeps only GPUs with a device file; /dev/null stands in for each card.
for i in 0 1 2 3; do ln -s /dev/null "$tmp/dev/fakegpu$i"; done
echo "Name=gpu File=$tmp/dev/fakegpu[0-3]" >"$tmp/gres.conf"
cat >"$conf" <<EOF
ClusterName=vmevaltest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits for the credential of its last attempt to expire (default 120 s).
AuthInfo=socket=$tmp/munge/socket,cred_expire=5
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MinJobAge=600
GresTypes=gpu
# The node claims what the example script asks of each task (4 CPUs, 32G, one GPU), 4 times over.
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=16 RealMemory=65536 Gres=gpu:4 State=UNKNOWN
PartitionName=vmeval Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -f "$conf" >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$conf" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { [[ $(sinfo -h -n "$node" -o %T 2>/dev/null) == idle ]]; }
wait_until 60 "node $node to be idle (see slurmctld.log)" node_idle
log "slurm is up: node $node, slurmctld port $ctld_port, slurmd port $slurmd_port"

# --- the mock API; its key and address reach the jobs through an env file, as in the guide
"$vmeval" mock-api --port 0 --generation-s 3 >"$tmp/log/mock-api.log" 2>&1 &
pids+=($!)
mock_up() { grep -q 'listening on http://' "$tmp/log/mock-api.log"; }
wait_until 20 "vmeval mock-api" mock_up
mock_url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$tmp/log/mock-api.log")
cat >"$tmp/work/vmeval.env" <<EOF
VMEVAL_MOCK_API=$mock_url
VMEVAL_POLL_INTERVAL_S=0.2
RUNWAYML_API_SECRET=ci-secret
EOF
chmod 600 "$tmp/work/vmeval.env"

# --- 8 questions (each with a goal image, so that baseline-crossfade takes all of them)
questions=$tmp/work/questions
n=0
for q in maze_task/maze_0000 maze_task/maze_0001 maze_task/maze_0002 rotation_task/rotation_0000 \
         rotation_task/rotation_0001 sorting_task/sorting_0000; do
    mkdir -p "$questions/$q"
    cp "$src/examples/questions/$q"/{first_frame.png,final_frame.png,prompt.txt} "$questions/$q/"
    n=$((n + 1))
done
for i in 0 1; do
    mkdir -p "$questions/copy_task/copy_000$i"
    cp "$src/examples/questions/maze_task/maze_0000"/{first_frame.png,final_frame.png} \
        "$questions/copy_task/copy_000$i/"
    echo "Copy $i: move the green dot to the red goal." \
        >"$questions/copy_task/copy_000$i/prompt.txt"
    n=$((n + 1))
done
output=$tmp/work/outputs

# --- submit from the work folder, as a user would (logs/ is relative to it)
cd "$tmp/work"
job=$(VMEVAL_BIN=$vmeval VMEVAL_ENV_FILE=$tmp/work/vmeval.env \
      sbatch --parsable --array=0-$((tasks - 1)) \
          "$sbatch_script" "$questions" "$output" "$models") ||
    fail "sbatch refused the array job"
job=${job%%;*}
log "submitted array job $job ($tasks tasks, $n questions, models $models)"
task_log() { echo "$tmp/work/logs/vmeval-${job}_$1.log"; }

# Strike each task while a run of the mock-API model is in flight: the question ids of its shard
# come from the baseline runs it has logged, the unfinished run is a .partial-* folder.
inflight_run() {
    local id f
    while read -r id; do
        for f in "$output"/runway-gen4-turbo/*_task/"$id"/.partial-*; do
            [[ -e $f ]] && { echo "$f"; return 0; }
        done
    done < <(sed -n 's|.* done in .* -> .*/\([^/]*\)/[^/]*$|\1|p' "$(task_log "$1")" 2>/dev/null)
    return 1
}
wait_until 60 "a mock-API run of task $killed_task" inflight_run "$killed_task" >/dev/null
victim=$(sed -n 's/.*vmeval pid \([0-9]*\).*/\1/p' "$(task_log "$killed_task")" | head -n 1)
[[ -n $victim ]] || fail "task $killed_task logged no vmeval pid"
kill -KILL "$victim" || fail "vmeval of task $killed_task (pid $victim) was no longer running"
log "killed vmeval pid $victim of task $killed_task in the middle of $(inflight_run "$killed_task")"
wait_until 60 "a mock-API run of task $usr1_task" inflight_run "$usr1_task" >/dev/null
scancel --batch --signal=USR1 "${job}_${usr1_task}" || fail "scancel --signal=USR1 failed"
log "sent USR1 to task $usr1_task"

array_done() { [[ -z $(squeue -h -j "$job" 2>/dev/null) ]]; }
wait_until 150 "array job $job to finish" array_done
log "array job $job finished"

# --- every task completed, and the two struck tasks ran twice
task_state='s/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2 \3/p'
states=$(scontrol -o show job "$job" | sed -n "$task_state" | sort -n) ||
    fail "scontrol show job $job failed"
expected=$(for t in $(seq 0 $((tasks - 1))); do echo "$t COMPLETED 0:0"; done)
[[ $states == "$expected" ]] || fail "array tasks did not all complete with exit 0:"$'\n'"$states"
for t in "$killed_task" "$usr1_task"; do
    attempts=$(grep -c '\] attempt ' "$(task_log "$t")" || true)
    [[ $attempts == 2 ]] ||
        fail "task $t ran $attempts times, expected 2 (stopped once, then requeued)"
    grep -q 'requeueing job' "$(task_log "$t")" || fail "task $t did not requeue itself"
done
grep -q 'vmeval exited with 137' "$(task_log "$killed_task")" ||
    fail "task $killed_task: no exit 137 logged"
grep -q 'USR1: stopping vmeval' "$(task_log "$usr1_task")" ||
    fail "task $usr1_task: USR1 not handled"
grep -q 'vmeval exited with 130' "$(task_log "$usr1_task")" ||
    fail "task $usr1_task: vmeval did not stop cleanly"
for t in $(seq 0 $((tasks - 1))); do
    grep -q "shard $t/$tasks" "$(task_log "$t")" || fail "task $t did not run shard $t/$tasks"
done

# --- exactly one successful run per question and model, each video probing as recorded
leftovers=$(find "$output" \( -name '.partial-*' -o -name '.claim-*' -o -name '.working*' \) -print)
[[ -z $leftovers ]] || fail "unfinished runs or claims left behind:"$'\n'"$leftovers"
python3 - "$questions" "$output" "$models" <<'EOF' ||
    fail "the outputs are not one good run per question and model"
import concurrent.futures, json, pathlib, subprocess, sys

questions, output = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
models = sys.argv[3].split(",")


def check(task_dir):
    """The problem with the runs of one model on one question, or None."""
    runs = sorted(p for p in task_dir.glob("*") if p.is_dir()) if task_dir.is_dir() else []
    if len(runs) != 1:
        return f"{task_dir}: {len(runs)} run folders, expected 1"
    meta = json.loads((runs[0] / "metadata.json").read_text())
    if meta["status"] != "success":
        return f"{runs[0]}: status {meta['status']}: {meta.get('error')}"
    video = runs[0] / "video" / "generated_video.mp4"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-of", "json",
         "-show_entries", "stream=width,height,nb_read_frames", str(video)],
        capture_output=True, text=True)
    if probe.returncode != 0:
        return f"{video}: ffprobe failed: {probe.stderr.strip()}"
    s = json.loads(probe.stdout)["streams"][0]
    got = (int(s["width"]), int(s["height"]), int(s["nb_read_frames"]))
    want = (meta["output"]["width"], meta["output"]["height"], meta["output"]["frames"])
    return None if got == want else f"{video}: probes as {got}, metadata.json says {want}"

task_dirs = [output / model / q.parent.name / q.name
             for q in sorted(p for p in questions.glob("*_task/*") if p.is_dir())
             for model in models]
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    problems = [p for p in pool.map(check, task_dirs) if p]
print(f"{len(task_dirs)} question/model pairs checked")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF

log "PASS: $n questions x 3 models, one good run each; task $killed_task survived SIGKILL," \
    "task $usr1_task a USR1 stop, both requeued"
