#!/usr/bin/env bash
# Race gpubridge's actor runtime against CAF and Erlang/OTP on the same
# workloads (docs/benchmarks.md says what each one measures).
#
#   scripts/bench-peers.sh [--runs N] [--systems LIST] [--workloads LIST] [BUILD]
#
#   --runs N          runs of every workload per system (default 5); the table
#                     shows the median of the runs
#   --systems LIST    comma-separated subset of gpubridge,caf,erlang
#   --workloads LIST  comma-separated subset of the workload names below
#   BUILD             the CMake build folder (default build)
#
# Builds what is missing (BUILD/bench/peer_caf, gpubridge's
# BUILD/bench/bench_actors_actors, the Erlang modules into BUILD/bench/erlang),
# skips a system that is not available with a note, prints one table and
# writes it as markdown to BUILD/bench/peers.md (raw RESULT lines in
# BUILD/bench/peers-raw.txt). Ratios are peer/ours for latencies and
# ours/peer for throughputs, so a ratio above 1 means gpubridge is better.
set -euo pipefail

runs=5
systems=gpubridge,caf,erlang
only=""
build=build
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --systems) systems=$2; shift 2 ;;
        --workloads) only=$2; shift 2 ;;
        -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench-peers: unknown option $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench-peers: --runs wants a positive integer" >&2; exit 2; }

# workload name | arguments (the same positional arguments for every system)
specs=(
    "pingpong|pingpong 200000"
    "many_to_one_1|many_to_one 1 2000000"
    "many_to_one_2|many_to_one 2 2000000"
    "fanout|fanout 1000 1000"
    "activation_1k|activation 1000"
    "activation_10k|activation 10000"
    "activation_100k|activation 100000"
    "activation_1m|activation 1000000"
    "external_call|external_call 50000"
    "counting|counting 2000000"
    "threadring|threadring 100 1000000"
    "chameneos|chameneos 100 200000"
    "big|big 120 5000"
    "fjthrput|fjthrput 60 10000"
)
# the table's rows: workload metric
rows=(
    "pingpong median_ns" "pingpong p99_ns"
    "many_to_one_1 msgs_per_s" "many_to_one_2 msgs_per_s"
    "fanout round_us" "fanout per_msg_ns"
    "activation_1k ns_per_actor" "activation_10k ns_per_actor"
    "activation_100k ns_per_actor" "activation_1m ns_per_actor"
    "external_call median_ns" "external_call p99_ns"
    "counting msgs_per_s" "threadring msgs_per_s" "chameneos msgs_per_s"
    "big msgs_per_s" "fjthrput msgs_per_s"
)

bench=$build/bench
ours_bin=$bench/bench_actors_actors
caf_bin=$bench/peer_caf
erl_dir=$bench/erlang
raw=$bench/peers-raw.txt
md=$bench/peers.md
notes=()

wanted() { [[ ",$systems," == *",$1,"* ]]; }

# -- build what is needed ----------------------------------------------------------
prepare() {
    if wanted gpubridge || wanted caf; then
        [[ -f $build/CMakeCache.txt ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        local t
        for t in bench_actors_actors peer_caf; do
            cmake --build "$build" -j2 --target "$t" >/dev/null 2>&1 || true
        done
    fi
    mkdir -p "$bench"
    if wanted erlang && command -v erlc >/dev/null; then
        mkdir -p "$erl_dir"
        erlc -o "$erl_dir" bench/peers/erlang/*.erl
    fi
}

# Sets the command prefix of system $1 in `cmd`, or returns 1 with a note.
system_cmd() {
    case "$1" in
        gpubridge)
            if [[ ! -x $ours_bin ]]; then
                notes+=("gpubridge skipped: $ours_bin not built"); return 1
            fi
            if ! grep -q -a -- "--peer-format" "$ours_bin"; then
                notes+=("gpubridge skipped: $ours_bin has no --peer-format"); return 1
            fi
            cmd="$ours_bin --peer-format" ;;
        caf)
            if [[ ! -x $caf_bin ]]; then
                notes+=("CAF skipped: $caf_bin not built (needs g++ and libcaf-dev: scripts/deps.sh bench)")
                return 1
            fi
            cmd="$caf_bin" ;;
        erlang)
            if ! command -v erl >/dev/null || [[ ! -f $erl_dir/peer_bench.beam ]]; then
                notes+=("Erlang skipped: erl/erlc not found (erlang-base: scripts/deps.sh bench)")
                return 1
            fi
            cmd="erl -noshell +P 2000000 -pa $erl_dir -run peer_bench main" ;;
    esac
}

# Runs workload spec $2 of system $1 once (run $3), appending its RESULT
# line to the raw file. Once an activation row of a system times out, the
# row is not run again and the larger activation sizes of that system are
# not run at all (each gets one timeout line).
declare -A act_timed_out=() act_row_closed=()
run_once() {
    local sys=$1 name=${2%%|*} args=${2#*|} i=$3 out
    [[ -z ${act_row_closed[$sys/$name]:-} ]] || return 0
    if [[ $name == activation_* && -n ${act_timed_out[$sys]:-} ]]; then
        echo "RESULT system=$sys workload=$name metric=ns_per_actor value=timeout" >>"$raw"
        act_row_closed[$sys/$name]=1
        return 0
    fi
    # 60 s backstop; the activation rows stop themselves after 20 s.
    # shellcheck disable=SC2086
    out=$(timeout 60 $cmd $args 2>>"$bench/peers-stderr.txt" | grep '^RESULT ' || true)
    if [[ -z $out && $name == activation_* ]]; then
        out="RESULT system=$sys workload=$name metric=ns_per_actor value=timeout"
    fi
    [[ -n $out ]] || { notes+=("$sys $name run $i printed no result (see $bench/peers-stderr.txt)"); return 0; }
    echo "$out" >>"$raw"
    if [[ $out == *value=timeout* ]]; then
        act_timed_out[$sys]=1
        act_row_closed[$sys/$name]=1
    fi
}

# Median of system/workload/metric over the raw file, timeouts counting as
# the slowest runs: "-" when absent, "timeout" when the median run is one.
median() {
    awk -v s="system=$1" -v w="workload=$2" -v m="metric=$3" '
        $1 == "RESULT" && $2 == s && $3 == w && $4 == m {
            v = substr($5, 7); n++
            if (v != "timeout") vals[++k] = v + 0
        }
        END {
            if (n == 0) { print "-"; exit }
            for (i = 2; i <= k; i++) { x = vals[i]; for (j = i - 1; j >= 1 && vals[j] > x; j--) vals[j + 1] = vals[j]; vals[j + 1] = x }
            mid = int((n + 1) / 2)
            if (mid > k) { print "timeout"; exit }
            printf "%.1f\n", vals[mid]
        }' "$raw"
}

# Ratio so that > 1 means gpubridge is better.
ratio() {
    local ours=$1 peer=$2 metric=$3
    if [[ $ours == - || $peer == - ]]; then echo "-"; return; fi
    if [[ $ours == timeout || $peer == timeout ]]; then echo "-"; return; fi
    awk -v o="$ours" -v p="$peer" -v m="$metric" 'BEGIN {
        if (o <= 0 || p <= 0) { print "-"; exit }
        if (m ~ /_per_s$/) printf "%.2f\n", o / p; else printf "%.2f\n", p / o }'
}

# 1234567.8 -> "1.23M", 812.0 -> "812"
human() {
    awk -v v="$1" 'BEGIN {
        if (v !~ /^[0-9.]+$/) { print v; exit }
        if (v >= 1e6) printf "%.2fM\n", v / 1e6
        else if (v >= 1e4) printf "%.0f\n", v
        else if (v >= 100) printf "%.0f\n", v
        else printf "%.2f\n", v }'
}

args_of() {
    local s
    for s in "${specs[@]}"; do
        [[ ${s%%|*} == "$1" ]] && { echo "${s#*|}"; return; }
    done
}

print_table() {
    local row w m o c e fmt line
    fmt="%-16s %-13s %10s %10s %10s %9s %9s  %s\n"
    # shellcheck disable=SC2059
    printf "$fmt" workload metric gpubridge CAF Erlang CAF/ours Erl/ours command
    {
        echo "| workload | metric | gpubridge | CAF | Erlang | ratio vs CAF | ratio vs Erlang | command |"
        echo "|---|---|--:|--:|--:|--:|--:|---|"
    } >>"$md"
    for row in "${rows[@]}"; do
        w=${row% *} m=${row#* }
        [[ -z $only || ",$only," == *",$w,"* ]] || continue
        o=$(median gpubridge "$w" "$m") c=$(median caf "$w" "$m") e=$(median erlang "$w" "$m")
        line=("$w" "$m" "$(human "$o")" "$(human "$c")" "$(human "$e")"
              "$(ratio "$o" "$c" "$m")" "$(ratio "$o" "$e" "$m")" "SYS $(args_of "$w")")
        # shellcheck disable=SC2059
        printf "$fmt" "${line[@]}"
        echo "| ${line[0]} | ${line[1]} | ${line[2]} | ${line[3]} | ${line[4]} | ${line[5]} | ${line[6]} | \`${line[7]}\` |" >>"$md"
    done
}

main() {
    prepare
    : >"$raw"
    : >"$bench/peers-stderr.txt"
    local started load sys spec cmd
    started=$(date -u '+%Y-%m-%d %H:%M UTC')
    load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
    local -A cmds=()
    for sys in gpubridge caf erlang; do
        wanted "$sys" || continue
        system_cmd "$sys" || continue
        cmds[$sys]=$cmd
    done
    # Workload by workload, and within a workload run by run, every system
    # in turn: this VM has phases of a minute or two (after heavy builds)
    # in which flooding workloads run 2-3x slower, so five runs of one
    # system in a row, then five of the next, can compare a slow phase with
    # a fast one. Alternated, the systems see the same phases for a row.
    local i
    for spec in "${specs[@]}"; do
        [[ -z $only || ",$only," == *",${spec%%|*},"* ]] || continue
        echo "bench-peers: ${spec%%|*} (${runs} runs of each system, alternated)" >&2
        for ((i = 1; i <= runs; i++)); do
            for sys in gpubridge caf erlang; do
                [[ -n ${cmds[$sys]:-} ]] || continue
                cmd=${cmds[$sys]}
                run_once "$sys" "$spec" "$i"
            done
        done
    done

    {
        echo "# gpubridge vs CAF vs Erlang/OTP: actor workloads"
        echo
        echo "$started, $(nproc) cores, load average at start $load; median of $runs runs."
        echo "Ratios: peer/ours for latencies, ours/peer for throughputs (> 1: gpubridge better)."
        echo
    } >"$md"
    echo
    echo "gpubridge vs CAF vs Erlang/OTP ($started, $(nproc) cores, load $load, median of $runs runs)"
    echo "ratios: peer/ours for latencies, ours/peer for throughputs (> 1: gpubridge better)"
    print_table
    echo
    {
        echo
        for sys in gpubridge caf erlang; do
            [[ -n ${cmds[$sys]:-} ]] && echo "- SYS = $sys: \`${cmds[$sys]}\`"
        done
    } >>"$md"
    for sys in gpubridge caf erlang; do
        [[ -n ${cmds[$sys]:-} ]] && echo "SYS = $sys: ${cmds[$sys]}"
    done
    local n
    for n in "${notes[@]+"${notes[@]}"}"; do
        echo "note: $n"
        echo "- note: $n" >>"$md"
    done
    if [[ -n ${act_timed_out[*]+x} ]]; then
        local t="activation rows stop after 20 s (timeout); once a size timed out, the larger sizes of that system are not run"
        echo "note: $t"
        echo "- note: $t" >>"$md"
    fi
    echo "markdown: $md"
}

main
