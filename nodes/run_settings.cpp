#include "nodes/run_settings.hpp"

namespace codehive {

void apply_stored_settings(const run_settings& stored, const std::string& request,
                           run_options& o) {
  o.request = request;
  o.out = stored.out_dir;
  o.demo = o.demo || stored.demo;
  o.approve_plan = o.approve_plan || stored.approve_plan;
  if (!o.demo) {
    if (!o.planner && !stored.planner.empty())
      o.planner = stored.planner;
    if (!o.coder && !stored.coder.empty())
      o.coder = stored.coder;
  }
  if (!o.coders)
    o.coders = stored.coders;
  if (!o.fixers)
    o.fixers = stored.fixers;
  if (!o.max_rounds)
    o.max_rounds = stored.max_rounds;
  if (!o.max_tokens && stored.max_tokens > 0)
    o.max_tokens = stored.max_tokens;
  if (!o.max_cost && stored.max_cost_usd > 0)
    o.max_cost = stored.max_cost_usd;
  // The time budget counts per session (from this process's start).
  if (!o.max_time && stored.max_time_s > 0)
    o.max_time = stored.max_time_s;
}

}  // namespace codehive
