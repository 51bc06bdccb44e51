// CAF version of the Savina workloads used in the race: Counting, Thread
// Ring, Chameneos, Big and Fork-Join throughput (fjthrput), with Savina's
// parameters scaled down to finish in about a second on two cores.
//
// Each workload reports msgs_per_s = (messages the workload sends) / (time
// from kick-off to the last message); docs/benchmarks.md gives the message
// count of each.
#include "peer_caf.hpp"

#include <cmath>
#include <future>
#include <memory>

using namespace caf;

namespace peer {
namespace {

// minstd (Park-Miller): the same generator in every system, small enough
// for Erlang's fixnums.
inline int64_t minstd_next(int64_t x) {
  return (x * 48271) % 2147483647;
}

void print_rate(const char* workload, double msgs, uint64_t t0, uint64_t t1) {
  result(workload, "msgs_per_s", msgs / (static_cast<double>(t1 - t0) / 1e9));
}

// -- Counting: a producer sends N increments, then asks for the count. ------

behavior counter(event_based_actor* self) {
  auto count = std::make_shared<int64_t>(0);
  return {
    [=](inc_atom) { ++*count; },
    [=](get_atom) {
      self->quit();
      return *count;
    },
  };
}

behavior producer(event_based_actor* self, actor ctr, int64_t n, std::promise<uint64_t>* done) {
  return {
    [=](go_atom) {
      for (int64_t i = 0; i < n; ++i)
        self->send(ctr, inc_atom::value);
      self->send(ctr, get_atom::value);
    },
    [=](int64_t count) {
      if (count != n)
        std::fprintf(stderr, "peer_caf: counting got %lld, want %lld\n",
                     static_cast<long long>(count), static_cast<long long>(n));
      done->set_value(now_ns());
      self->quit();
    },
  };
}

// -- Thread Ring: a token passed around N actors for R hops. ------------------

behavior ring_node(event_based_actor* self, const std::vector<actor>* ring, size_t next,
                   std::promise<uint64_t>* done) {
  return {
    [=](token_atom, int64_t left) {
      if (left == 0) {
        done->set_value(now_ns());
        return;
      }
      self->send((*ring)[next], token_atom::value, left - 1);
    },
    [=](exit_atom) { self->quit(); },
  };
}

// -- Chameneos: C chameneos meet N times at a mall. ------------------------------

struct mall_state {
  actor waiting;
  int64_t waiting_color = 0;
  int64_t meetings_left = 0;
  int64_t faded = 0;
  int64_t chameneos = 0;
  std::promise<uint64_t>* done = nullptr;
};

behavior mall(stateful_actor<mall_state>* self, int64_t c, int64_t n,
              std::promise<uint64_t>* done) {
  self->state.meetings_left = n;
  self->state.chameneos = c;
  self->state.done = done;
  return {
    [=](meet_atom, int64_t color) {
      auto& st = self->state;
      auto from = actor_cast<actor>(self->current_sender());
      if (st.meetings_left == 0) {
        self->send(from, exit_atom::value);
      } else if (!st.waiting) {
        st.waiting = from;
        st.waiting_color = color;
      } else {
        --st.meetings_left;
        self->send(st.waiting, meet_atom::value, color, from);
        st.waiting = nullptr;
      }
    },
    [=](done_atom) {
      auto& st = self->state;
      if (++st.faded == st.chameneos) {
        st.done->set_value(now_ns());
        self->quit();
      }
    },
  };
}

inline int64_t complement(int64_t a, int64_t b) {
  return a == b ? a : 3 - a - b;
}

behavior chameneo(event_based_actor* self, actor m, int64_t color0) {
  auto color = std::make_shared<int64_t>(color0);
  return {
    [=](go_atom) { self->send(m, meet_atom::value, *color); },
    [=](meet_atom, int64_t other_color, actor other) {
      *color = complement(*color, other_color);
      self->send(other, change_atom::value, *color);
      self->send(m, meet_atom::value, *color);
    },
    [=](change_atom, int64_t new_color) {
      *color = new_color;
      self->send(m, meet_atom::value, *color);
    },
    [=](exit_atom) {
      self->send(m, done_atom::value);
      self->quit();
    },
  };
}

// -- Big: W actors each send P pings to random peers and wait for pongs. -------

struct big_state {
  int64_t rng = 0;
  int64_t pings_left = 0;
};

behavior big_worker(stateful_actor<big_state>* self, const std::vector<actor>* peers,
                    int64_t index, int64_t pings, actor snk) {
  self->state.rng = index + 1;
  self->state.pings_left = pings;
  auto send_ping = [=] {
    auto& st = self->state;
    st.rng = minstd_next(st.rng);
    self->send((*peers)[static_cast<size_t>(st.rng % static_cast<int64_t>(peers->size()))],
               ping_atom::value);
  };
  return {
    [=](go_atom) { send_ping(); },
    [=](ping_atom) { return pong_atom::value; },
    [=](pong_atom) {
      if (--self->state.pings_left == 0)
        self->send(snk, done_atom::value);
      else
        send_ping();
    },
    [=](exit_atom) { self->quit(); },
  };
}

// -- Fork-Join throughput: N messages to each of A actors. ---------------------

behavior fj_worker(event_based_actor* self, int64_t n, actor snk) {
  auto seen = std::make_shared<int64_t>(0);
  return {
    [=](msg_atom, double theta) {
      // Savina's performComputation: sin(theta)^2, kept alive by a check.
      double s = std::sin(theta);
      if (s * s <= 0.0)
        std::fprintf(stderr, "peer_caf: fjthrput computation went wrong\n");
      if (++*seen == n) {
        self->send(snk, done_atom::value);
        self->quit();
      }
    },
  };
}

behavior fj_producer(event_based_actor* self, std::vector<actor> workers, int64_t n) {
  return {
    [=](go_atom) {
      for (int64_t i = 0; i < n; ++i)
        for (auto& w : workers)
          self->send(w, msg_atom::value, 37.2);
      self->quit();
    },
  };
}

} // namespace

int run_counting(actor_system& sys, const args_t& a) {
  int64_t n = arg_or(a, 0, 2000000);
  std::promise<uint64_t> done;
  auto p = sys.spawn(producer, sys.spawn(counter), n, &done);
  uint64_t t0 = now_ns();
  anon_send(p, go_atom::value);
  print_rate("counting", static_cast<double>(n), t0, done.get_future().get());
  return 0;
}

int run_threadring(actor_system& sys, const args_t& a) {
  int64_t n = arg_or(a, 0, 100);
  int64_t hops = arg_or(a, 1, 1000000);
  std::promise<uint64_t> done;
  std::vector<actor> ring;
  for (int64_t i = 0; i < n; ++i)
    ring.push_back(sys.spawn(ring_node, &ring, static_cast<size_t>((i + 1) % n), &done));
  uint64_t t0 = now_ns();
  anon_send(ring[0], token_atom::value, hops);
  print_rate("threadring", static_cast<double>(hops), t0, done.get_future().get());
  for (auto& r : ring)
    anon_send(r, exit_atom::value);
  return 0;
}

int run_chameneos(actor_system& sys, const args_t& a) {
  int64_t c = arg_or(a, 0, 100);
  int64_t n = arg_or(a, 1, 200000);
  std::promise<uint64_t> done;
  auto m = sys.spawn(mall, c, n, &done);
  std::vector<actor> cs;
  for (int64_t i = 0; i < c; ++i)
    cs.push_back(sys.spawn(chameneo, m, i % 3));
  uint64_t t0 = now_ns();
  for (auto& x : cs)
    anon_send(x, go_atom::value);
  print_rate("chameneos", static_cast<double>(4 * n + 3 * c), t0, done.get_future().get());
  return 0;
}

int run_big(actor_system& sys, const args_t& a) {
  int64_t w = arg_or(a, 0, 120);
  int64_t p = arg_or(a, 1, 5000);
  std::promise<uint64_t> done;
  auto snk = sys.spawn(done_sink, w, &done);
  std::vector<actor> peers;
  for (int64_t i = 0; i < w; ++i)
    peers.push_back(sys.spawn(big_worker, &peers, i, p, snk));
  uint64_t t0 = now_ns();
  for (auto& x : peers)
    anon_send(x, go_atom::value);
  print_rate("big", static_cast<double>(2 * w * p), t0, done.get_future().get());
  for (auto& x : peers)
    anon_send(x, exit_atom::value);
  return 0;
}

int run_fjthrput(actor_system& sys, const args_t& a) {
  int64_t w = arg_or(a, 0, 60);
  int64_t n = arg_or(a, 1, 10000);
  std::promise<uint64_t> done;
  auto snk = sys.spawn(done_sink, w, &done);
  std::vector<actor> workers;
  for (int64_t i = 0; i < w; ++i)
    workers.push_back(sys.spawn(fj_worker, n, snk));
  auto prod = sys.spawn(fj_producer, workers, n);
  uint64_t t0 = now_ns();
  anon_send(prod, go_atom::value);
  print_rate("fjthrput", static_cast<double>(w * n), t0, done.get_future().get());
  return 0;
}

} // namespace peer
