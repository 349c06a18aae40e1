// Time per phase (actors/planner/phase_clock.*): the run's result carries
// what the controller's clock says each phase took, and a resumed run adds
// to what earlier sessions spent, read back from the event log. The clock is
// the harness's: moved by the test, never a real sleep.
#include <map>

#include <gtest/gtest.h>

#include "actors/planner/phase_clock.hpp"
#include "tests/planner/harness.hpp"

using namespace codehive;
using codehive::test::harness;
using codehive::test::one_fix_round;

namespace {

/// A different step per phase, so a time booked to the wrong phase shows.
std::int64_t step_in(const std::string& phase) {
  static const std::map<std::string, std::int64_t> steps{
    {"starting", 7},     {"planning", 1000}, {"coding", 300},
    {"validating", 50},  {"reviewing", 400}, {"fixing", 200}};
  auto it = steps.find(phase);
  return it == steps.end() ? 1 : it->second;
}

using times = std::map<std::string, std::int64_t>;

/// Answers one command after moving the clock by the current phase's step;
/// the step is booked to that phase in `expected`.
bool tick_and_answer(harness& h, times& expected) {
  if (h.pending.empty())
    return false;
  const std::string phase{to_string(h.ctl->run().phase)};
  h.clock_ms += step_in(phase);
  expected[phase] += step_in(phase);
  return h.answer_next();
}

times as_map(const std::vector<msg::phase_time>& v) {
  times m;
  for (const auto& t : v)
    m[t.phase] += t.ms;
  return m;
}

std::vector<std::string> names(const std::vector<msg::phase_time>& v) {
  std::vector<std::string> out;
  for (const auto& t : v)
    out.push_back(t.phase);
  return out;
}

}  // namespace

TEST(PhaseTimes, TheResultCarriesTheTimeOfEachPhaseInTheOrderEntered) {
  harness h;
  one_fix_round(h);
  h.start();
  times expected;
  while (!h.result && tick_and_answer(h, expected)) {
  }
  ASSERT_TRUE(h.result);
  ASSERT_EQ(h.result->exit_code, 0) << h.result->message;
  ASSERT_EQ(h.result->rounds, 2);
  // Time after the end (waiting for the tracker's last records) is no phase.
  expected.erase("finished");
  EXPECT_EQ(as_map(h.result->phases), expected);
  EXPECT_EQ(names(h.result->phases), (std::vector<std::string>{"starting", "planning", "coding",
                                                               "validating", "reviewing", "fixing"}));
  EXPECT_GT(expected["fixing"], 0) << "the run went through a fix round";

  // The event log has each change, and the last one holds the same totals.
  auto events = h.store->read_events(h.run_id);
  ASSERT_TRUE(events);
  std::vector<std::string> entered;
  for (const auto& e : *events)
    if (auto p = planner::read_phase_event(e))
      entered.push_back(p->phase);
  EXPECT_EQ(entered, (std::vector<std::string>{"planning", "coding", "validating", "reviewing",
                                               "fixing", "validating", "reviewing", "finished"}));
  auto last = planner::last_phase(*events);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->detail, "done");
  EXPECT_EQ(last->totals, h.result->phases);
}

// A process stopped as the first validation starts: the next session's result
// holds the first session's time (from its last phase event) plus its own.
TEST(PhaseTimes, AResumedRunAddsToWhatEarlierSessionsSpent) {
  harness h;
  one_fix_round(h);
  h.start();
  times expected;
  while (h.ctl->run().phase != msg::run_phase::validating && tick_and_answer(h, expected)) {
  }
  ASSERT_EQ(h.ctl->run().phase, msg::run_phase::validating);
  ASSERT_FALSE(h.result);
  ASSERT_GT(expected["coding"], 0);

  h.restart();
  h.start();
  while (!h.result && tick_and_answer(h, expected)) {
  }
  ASSERT_TRUE(h.result);
  ASSERT_EQ(h.result->exit_code, 0) << h.result->message;
  expected.erase("finished");
  EXPECT_EQ(as_map(h.result->phases), expected);
  EXPECT_EQ(h.result->phases.front().phase, "starting");
}

TEST(PhaseClock, CountsTheOpenPhaseUpToNowAndNothingAfterStop) {
  planner::phase_clock c;
  c.seed({{"planning", 500}});
  c.enter("coding", 1000);
  EXPECT_EQ(c.totals(1250), (std::vector<msg::phase_time>{{"planning", 500}, {"coding", 250}}));
  c.enter("planning", 1300);  // a phase entered again adds to its time
  c.stop(1400);
  EXPECT_EQ(c.totals(9999), (std::vector<msg::phase_time>{{"planning", 600}, {"coding", 300}}));
  c.enter("fixing", 2000);
  EXPECT_EQ(c.totals(1500).back(), (msg::phase_time{"fixing", 0})) << "a clock set back counts 0";
}
