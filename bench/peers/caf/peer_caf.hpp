// Shared helpers for the CAF peer benchmark (peer_caf): clock, statistics,
// RESULT lines, argument parsing and the atoms every workload uses.
//
// The workloads themselves live in caf_micro.cpp (ping-pong, many-to-one,
// fan-out, activation, external call) and caf_savina.cpp (the Savina
// subset). Their semantics are fixed by docs/benchmarks.md so that the
// Erlang peer (bench/peers/erlang/peer_bench.erl) and gpubridge's own actor
// benchmark measure exactly the same thing.
#pragma once

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

namespace peer {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using go_atom = caf::atom_constant<caf::atom("go")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using msg_atom = caf::atom_constant<caf::atom("msg")>;
using req_atom = caf::atom_constant<caf::atom("req")>;
using inc_atom = caf::atom_constant<caf::atom("inc")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using token_atom = caf::atom_constant<caf::atom("token")>;
using meet_atom = caf::atom_constant<caf::atom("meet")>;
using change_atom = caf::atom_constant<caf::atom("change")>;
using exit_atom = caf::atom_constant<caf::atom("exit")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;

// Monotonic nanoseconds (steady_clock is clock_gettime(CLOCK_MONOTONIC),
// a vDSO call of ~20 ns on Linux).
inline uint64_t now_ns() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
    duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

// Sorts `v` in place and returns the value at quantile q (0..1), nearest rank.
inline uint64_t quantile(std::vector<uint64_t>& v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One machine-readable line: the format is the contract of
// docs/benchmarks.md ("RESULT system=S workload=W metric=M value=V").
inline void result(const std::string& workload, const char* metric, double value) {
  std::printf("RESULT system=caf workload=%s metric=%s value=%.1f\n", workload.c_str(),
              metric, value);
  std::fflush(stdout);
}

inline void result_timeout(const std::string& workload, const char* metric) {
  std::printf("RESULT system=caf workload=%s metric=%s value=timeout\n", workload.c_str(),
              metric);
  std::fflush(stdout);
}

// Positional integer argument `i` of `args`, or `def` when absent.
inline long arg_or(const std::vector<std::string>& args, size_t i, long def) {
  if (i >= args.size())
    return def;
  char* end = nullptr;
  long v = std::strtol(args[i].c_str(), &end, 10);
  if (end == args[i].c_str() || *end != '\0' || v <= 0) {
    std::fprintf(stderr, "peer_caf: bad numeric argument '%s'\n", args[i].c_str());
    std::exit(2);
  }
  return v;
}

// "1k", "10k", "1m" ... for workload names that carry a size.
inline std::string size_name(long n) {
  if (n >= 1000000 && n % 1000000 == 0)
    return std::to_string(n / 1000000) + "m";
  if (n >= 1000 && n % 1000 == 0)
    return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

using args_t = std::vector<std::string>;

// Counts `done` messages; after `n` of them hands the time (now_ns) to the
// main thread through `done` and quits.
caf::behavior done_sink(caf::event_based_actor* self, int64_t n,
                        std::promise<uint64_t>* done);

// Each workload: run with positional args (after the workload name), print
// RESULT lines, return 0 on success.
int run_pingpong(caf::actor_system& sys, const args_t& a);
int run_many_to_one(caf::actor_system& sys, const args_t& a);
int run_fanout(caf::actor_system& sys, const args_t& a);
int run_activation(caf::actor_system& sys, const args_t& a);
int run_external_call(caf::actor_system& sys, const args_t& a);
int run_counting(caf::actor_system& sys, const args_t& a);
int run_threadring(caf::actor_system& sys, const args_t& a);
int run_chameneos(caf::actor_system& sys, const args_t& a);
int run_big(caf::actor_system& sys, const args_t& a);
int run_fjthrput(caf::actor_system& sys, const args_t& a);

} // namespace peer
