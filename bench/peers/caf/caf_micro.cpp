// CAF micro workloads: ping-pong, many-to-one, fan-out/fan-in, activation
// rate and an external (non-actor) thread calling an actor.
//
// Every workload hands its end time (or its samples) to the main thread
// through a std::promise; the main thread then prints RESULT lines. Timing
// is done inside the actors with steady_clock (vDSO, ~20 ns per read).
#include "peer_caf.hpp"

#include <future>
#include <memory>
#include <thread>

using namespace caf;

namespace peer {
namespace {

// Ping-pong: each round trip is timed individually (send of ping to
// receipt of the pong) by the pinger; the clock read costs ~20 ns against a
// round trip of ~1 us, so batching is not needed. The first 10% are warm-up.
struct pinger_state {
  uint64_t t0 = 0;
  int64_t warm = 0;
  int64_t total = 0;
  std::vector<uint64_t>* out = nullptr;
  std::promise<void>* done = nullptr;
};

behavior ponger(event_based_actor* self) {
  return {
    [=](ping_atom, int64_t i) { return i; },
    [=](exit_atom) { self->quit(); },
  };
}

behavior pinger(stateful_actor<pinger_state>* self, actor pong, int64_t warm,
                int64_t total, std::vector<uint64_t>* out, std::promise<void>* done) {
  self->state.warm = warm;
  self->state.total = total;
  self->state.out = out;
  self->state.done = done;
  return {
    [=](go_atom) {
      self->state.t0 = now_ns();
      self->send(pong, ping_atom::value, int64_t{1});
    },
    [=](int64_t i) {
      auto& st = self->state;
      uint64_t t = now_ns();
      if (i > st.warm)
        st.out->push_back(t - st.t0);
      if (i == st.total) {
        self->send(pong, exit_atom::value);
        st.done->set_value();
        self->quit();
        return;
      }
      st.t0 = now_ns();
      self->send(pong, ping_atom::value, i + 1);
    },
  };
}

// Many-to-one: SENDERS senders each send M messages as fast as they can to
// one receiver; the clock runs from the kick-off to the receiver's last
// message.
behavior m2o_receiver(event_based_actor* self, int64_t expect,
                      std::promise<uint64_t>* done) {
  auto seen = std::make_shared<int64_t>(0);
  return {
    [=](msg_atom) {
      if (++*seen == expect) {
        done->set_value(now_ns());
        self->quit();
      }
    },
  };
}

behavior m2o_sender(event_based_actor* self, actor dst, int64_t m) {
  return {
    [=](go_atom) {
      for (int64_t i = 0; i < m; ++i)
        self->send(dst, msg_atom::value);
      self->quit();
    },
  };
}

// Fan-out/fan-in: the coordinator sends a request to every worker and waits
// for all replies before starting the next round; each round is timed.
struct fan_state {
  std::vector<actor> workers;
  int64_t replies = 0;
  int64_t round = 0;
  int64_t warm = 0;
  int64_t rounds = 0;
  uint64_t t0 = 0;
  std::vector<uint64_t>* out = nullptr;
  std::promise<void>* done = nullptr;
};

behavior fan_worker(event_based_actor* self) {
  return {
    [=](req_atom, int64_t r) { return r; },
    [=](exit_atom) { self->quit(); },
  };
}

void fan_start_round(stateful_actor<fan_state>* self) {
  auto& st = self->state;
  st.replies = 0;
  st.t0 = now_ns();
  for (auto& w : st.workers)
    self->send(w, req_atom::value, st.round);
}

behavior fan_coordinator(stateful_actor<fan_state>* self, int64_t workers, int64_t warm,
                         int64_t rounds, std::vector<uint64_t>* out,
                         std::promise<void>* done) {
  self->state.warm = warm;
  self->state.rounds = rounds;
  self->state.out = out;
  self->state.done = done;
  for (int64_t i = 0; i < workers; ++i)
    self->state.workers.push_back(self->spawn(fan_worker));
  return {
    [=](go_atom) { fan_start_round(self); },
    [=](int64_t) {
      auto& st = self->state;
      if (++st.replies < static_cast<int64_t>(st.workers.size()))
        return;
      uint64_t t = now_ns();
      if (st.round >= st.warm)
        st.out->push_back(t - st.t0);
      if (++st.round == st.warm + st.rounds) {
        for (auto& w : st.workers)
          self->send(w, exit_atom::value);
        st.done->set_value();
        self->quit();
        return;
      }
      fan_start_round(self);
    },
  };
}

// Activation: one actor spawns N actors and sends each its first message,
// which names the sink; each child tells the sink `done` and exits. The
// clock runs from the kick-off to the sink's N-th `done`. The sink is not the
// spawner on purpose: replies piling up in the mailbox of an actor that is
// busy spawning measure that mailbox, not activation (in Erlang they make
// every GC of the spawner copy the whole queue: quadratic).
behavior act_child(event_based_actor* self) {
  return {
    [=](go_atom, const actor& snk) {
      self->send(snk, done_atom::value);
      self->quit();
    },
  };
}

behavior act_spawner(event_based_actor* self, int64_t n, actor snk) {
  return {
    [=](go_atom) {
      for (int64_t i = 0; i < n; ++i)
        self->send(self->spawn(act_child), go_atom::value, snk);
      self->quit();
    },
  };
}

behavior echo(event_based_actor* self) {
  return {
    [=](int64_t x) { return x; },
    [=](exit_atom) { self->quit(); },
  };
}

void print_latency(const char* workload, std::vector<uint64_t>& lat) {
  result(workload, "median_ns", static_cast<double>(quantile(lat, 0.5)));
  result(workload, "p99_ns", static_cast<double>(quantile(lat, 0.99)));
}

} // namespace

behavior done_sink(event_based_actor* self, int64_t n, std::promise<uint64_t>* done) {
  auto seen = std::make_shared<int64_t>(0);
  return {
    [=](done_atom) {
      if (++*seen == n) {
        done->set_value(now_ns());
        self->quit();
      }
    },
  };
}

int run_pingpong(actor_system& sys, const args_t& a) {
  int64_t n = arg_or(a, 0, 200000);
  std::vector<uint64_t> lat;
  lat.reserve(static_cast<size_t>(n));
  std::promise<void> done;
  auto pong = sys.spawn(ponger);
  auto ping = sys.spawn(pinger, pong, n / 10, n + n / 10, &lat, &done);
  anon_send(ping, go_atom::value);
  done.get_future().wait();
  print_latency("pingpong", lat);
  return 0;
}

int run_many_to_one(actor_system& sys, const args_t& a) {
  int64_t senders = arg_or(a, 0, 1);
  int64_t m = arg_or(a, 1, 2000000);
  std::promise<uint64_t> done;
  auto rx = sys.spawn(m2o_receiver, senders * m, &done);
  std::vector<actor> tx;
  for (int64_t i = 0; i < senders; ++i)
    tx.push_back(sys.spawn(m2o_sender, rx, m));
  uint64_t t0 = now_ns();
  for (auto& s : tx)
    anon_send(s, go_atom::value);
  uint64_t t1 = done.get_future().get();
  double secs = static_cast<double>(t1 - t0) / 1e9;
  result("many_to_one_" + std::to_string(senders), "msgs_per_s",
         static_cast<double>(senders * m) / secs);
  return 0;
}

int run_fanout(actor_system& sys, const args_t& a) {
  int64_t workers = arg_or(a, 0, 1000);
  int64_t rounds = arg_or(a, 1, 1000);
  std::vector<uint64_t> lat;
  std::promise<void> done;
  auto coord = sys.spawn(fan_coordinator, workers, rounds / 10, rounds, &lat, &done);
  anon_send(coord, go_atom::value);
  done.get_future().wait();
  double med = static_cast<double>(quantile(lat, 0.5));
  result("fanout", "round_us", med / 1e3);
  result("fanout", "per_msg_ns", med / static_cast<double>(2 * workers));
  return 0;
}

int run_activation(actor_system& sys, const args_t& a) {
  int64_t n = arg_or(a, 0, 100000);
  long limit_s = arg_or(a, 1, 20);
  std::string name = "activation_" + size_name(n);
  std::promise<uint64_t> done;
  auto fut = done.get_future();
  auto sp = sys.spawn(act_spawner, n, sys.spawn(done_sink, n, &done));
  uint64_t t0 = now_ns();
  anon_send(sp, go_atom::value);
  if (fut.wait_for(std::chrono::seconds(limit_s)) != std::future_status::ready) {
    // The actor system cannot be torn down while a million actors are
    // still queued; leave without running destructors.
    result_timeout(name, "ns_per_actor");
    std::_Exit(0);
  }
  result(name, "ns_per_actor", static_cast<double>(fut.get() - t0) / static_cast<double>(n));
  return 0;
}

// External call: a plain thread (not an actor) calls an echo actor through
// a scoped_actor request and blocks for the reply; each call is timed.
int run_external_call(actor_system& sys, const args_t& a) {
  int64_t n = arg_or(a, 0, 50000);
  int64_t warm = n / 10;
  auto e = sys.spawn(echo);
  std::vector<uint64_t> lat;
  lat.reserve(static_cast<size_t>(n));
  scoped_actor self{sys};
  bool failed = false;
  for (int64_t i = 0; i < warm + n && !failed; ++i) {
    uint64_t t0 = now_ns();
    self->request(e, infinite, i)
      .receive([&](int64_t r) { failed = r != i; }, [&](error&) { failed = true; });
    if (i >= warm)
      lat.push_back(now_ns() - t0);
  }
  anon_send(e, exit_atom::value);
  if (failed) {
    std::fprintf(stderr, "peer_caf: external_call got a wrong reply\n");
    return 1;
  }
  print_latency("external_call", lat);
  return 0;
}

} // namespace peer
