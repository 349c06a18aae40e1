// The scheduler tuning (nodes/scheduler_tuning.hpp): CAF reads the values
// under the names tune_scheduler sets (a misspelt key or a value of the
// wrong type would silently leave CAF's polling defaults on), and scheduled
// actors still hand work to each other and answer from outside with no
// polling between jobs.
#include <chrono>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/defaults.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/timespan.hpp>
#include <gtest/gtest.h>

#include "nodes/scheduler_tuning.hpp"

using namespace codehive;

namespace {

// The lookups caf::policy::work_stealing makes when the scheduler starts
// (libcaf_core/src/policy/work_stealing.cpp, CAF 0.17.6).
std::size_t poll_setting(const caf::actor_system& sys, const char* name, std::size_t fallback) {
  return caf::get_or(sys.config(), std::string{"work-stealing."} + name, fallback);
}

// Passes `n` down a ring of `size` scheduled actors; the last one answers.
caf::behavior relay(caf::event_based_actor* self, caf::actor next) {
  return {[self, next](int n) -> caf::result<int> {
    if (n == 0)
      return 0;
    self->delegate(next, n - 1);
    return caf::delegated<int>{};
  }};
}

}  // namespace

TEST(SchedulerTuning, CafReadsThePollingValuesUnderTheNamesSet) {
  namespace ws = caf::defaults::work_stealing;
  caf::actor_system_config cfg;
  tune_scheduler(cfg);
  caf::actor_system sys{cfg};
  EXPECT_EQ(poll_setting(sys, "aggressive-poll-attempts", ws::aggressive_poll_attempts + 1),
            scheduler_tuning::aggressive_poll_attempts);
  EXPECT_EQ(poll_setting(sys, "moderate-poll-attempts", ws::moderate_poll_attempts), 0u)
      << "no sleep-and-poll phase after a job";
  EXPECT_NE(ws::moderate_poll_attempts, 0u) << "CAF's default polls, so the check above can fail";
}

TEST(SchedulerTuning, ScheduledActorsStillHandWorkToEachOther) {
  caf::actor_system_config cfg;
  tune_scheduler(cfg);
  caf::actor_system sys{cfg};
  // A ring of 8 relays: every hop is a message from one scheduled actor to
  // another (queued on the sending thread, the case the relaxed sleep bounds).
  caf::actor first = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[self](caf::actor next) { self->become(relay(self, next)); }};
  });
  std::vector<caf::actor> ring{first};
  for (int i = 0; i < 7; ++i)
    ring.push_back(sys.spawn(relay, ring.back()));
  caf::actor next = ring.back();
  caf::scoped_actor self{sys};
  self->send(first, next);  // closes the ring
  for (int round = 0; round < 3; ++round) {
    bool answered = false;
    self->request(first, std::chrono::seconds(60), 2000)
        .receive([&](int n) { answered = n == 0; },
                 [&](caf::error& e) { ADD_FAILURE() << "round " << round << ": " << sys.render(e); });
    EXPECT_TRUE(answered) << "2,000 hops around the ring, round " << round;
  }
  for (auto& a : ring)  // the ring holds itself alive; the system waits for it at its end
    self->send_exit(a, caf::exit_reason::user_shutdown);
}
