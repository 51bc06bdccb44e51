// peer_caf: the CAF side of gpubridge's actor benchmark race.
//
//   peer_caf WORKLOAD [ARGS...] [-- CAF-OPTIONS...]
//
// Runs one workload on a default CAF 0.17 actor system (work-stealing
// scheduler, one worker per core) and prints RESULT lines (see
// docs/benchmarks.md). scripts/bench-peers.sh runs every workload five times
// and takes medians; run a workload by hand to see or vary one number.
#include "peer_caf.hpp"

#include <cstring>
#include <functional>
#include <map>

namespace {

using runner = int (*)(caf::actor_system&, const peer::args_t&);

struct workload {
  runner run;
  const char* usage;
};

const std::map<std::string, workload>& workloads() {
  static const std::map<std::string, workload> table = {
    {"pingpong", {peer::run_pingpong, "pingpong [ROUND_TRIPS=200000]"}},
    {"many_to_one", {peer::run_many_to_one, "many_to_one [SENDERS=1] [MSGS_PER_SENDER=2000000]"}},
    {"fanout", {peer::run_fanout, "fanout [WORKERS=1000] [ROUNDS=1000]"}},
    {"activation", {peer::run_activation, "activation [ACTORS=100000]"}},
    {"external_call", {peer::run_external_call, "external_call [CALLS=50000]"}},
    {"counting", {peer::run_counting, "counting [N=2000000]"}},
    {"threadring", {peer::run_threadring, "threadring [ACTORS=100] [HOPS=1000000]"}},
    {"chameneos", {peer::run_chameneos, "chameneos [CHAMENEOS=100] [MEETINGS=200000]"}},
    {"big", {peer::run_big, "big [ACTORS=120] [PINGS_PER_ACTOR=5000]"}},
    {"fjthrput", {peer::run_fjthrput, "fjthrput [ACTORS=60] [MSGS_PER_ACTOR=10000]"}},
  };
  return table;
}

void usage() {
  std::fprintf(stderr, "usage: peer_caf WORKLOAD [ARGS...] [-- CAF-OPTIONS...]\nworkloads:\n");
  for (const auto& kv : workloads())
    std::fprintf(stderr, "  %s\n", kv.second.usage);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  auto it = workloads().find(argv[1]);
  if (it == workloads().end()) {
    std::fprintf(stderr, "peer_caf: unknown workload '%s'\n", argv[1]);
    usage();
    return 2;
  }
  // Arguments after "--" are CAF options, e.g. --scheduler.max-threads=1.
  peer::args_t args(argv + 2, argv + argc);
  peer::args_t caf_args;
  auto sep = std::find(args.begin(), args.end(), "--");
  if (sep != args.end()) {
    caf_args.assign(sep + 1, args.end());
    args.erase(sep, args.end());
  }
  // Defaults unless overridden: the work-stealing scheduler with one worker
  // per core is what a CAF user gets, and what the reference figures used.
  caf::actor_system_config cfg;
  if (auto err = cfg.parse(caf_args, nullptr)) {
    std::fprintf(stderr, "peer_caf: bad CAF option: %s\n", cfg.render(err).c_str());
    return 2;
  }
  caf::actor_system sys{cfg};
  return it->second.run(sys, args);
}
