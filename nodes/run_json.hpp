// The pieces of a stored run's JSON that `status --json`
// (nodes/commands/inspect.cpp) and the HTTP API (nodes/http/api_json.cpp)
// write alike. Templates over the RapidJSON writer: the command pretty-prints,
// the API writes compact. Where the two differ, a parameter says how.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/rapidjson.h>

#include "common/json_member.hpp"
#include "storage/records.hpp"

namespace codehive::run_json {

/// "exit_code": the code, or null while there is none.
template <class W>
void exit_code_member(W& w, std::optional<int> exit) {
  w.Key("exit_code");
  if (exit)
    w.Int(*exit);
  else
    w.Null();
}

/// id, request, state, state_reason and exit_code of a run, as members.
template <class W>
void run_head(W& w, const store::run_record& r, std::optional<int> exit) {
  json_member(w, "id", r.id);
  json_member(w, "request", r.request);
  json_member(w, "state", store::to_string(r.state));
  json_member(w, "state_reason", r.state_reason);
  exit_code_member(w, exit);
}

/// Whether a usage object also says "tokens" (prompt + completion): the API's
/// does, `status --json`'s does not.
enum class with_tokens : bool { no, yes };

/// One usage object: calls, tokens, cost and latency summed.
template <class W>
void usage(W& w, const store::ledger_totals& t, with_tokens tokens) {
  w.StartObject();
  json_member(w, "calls", t.calls);
  json_member(w, "failed_calls", t.failed_calls);
  json_member(w, "prompt_tokens", t.prompt_tokens);
  json_member(w, "completion_tokens", t.completion_tokens);
  if (tokens == with_tokens::yes)
    json_member(w, "tokens", t.prompt_tokens + t.completion_tokens);
  json_member(w, "cost_usd", t.cost_usd);
  json_member(w, "latency_ms", t.latency_ms);
  w.EndObject();
}

/// "key": {name: usage, ...} (by role, by model).
template <class W>
void usage_by(W& w, const char* key, const std::map<std::string, store::ledger_totals>& by,
              with_tokens tokens) {
  w.Key(key);
  w.StartObject();
  for (const auto& [name, t] : by) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    usage(w, t, tokens);
  }
  w.EndObject();
}

/// "tasks": [the plan's tasks], "fixes": [the fix tasks], each task written
/// by `write_task(w, task)`; `is_fix(id)` tells the two apart.
template <class W, class IsFix, class WriteTask>
void tasks_and_fixes(W& w, const std::vector<store::task_record>& tasks, IsFix is_fix,
                     WriteTask write_task) {
  for (bool fixes : {false, true}) {
    w.Key(fixes ? "fixes" : "tasks");
    w.StartArray();
    for (const auto& t : tasks)
      if (is_fix(t.spec.id) == fixes)
        write_task(w, t);
    w.EndArray();
  }
}

/// Whether a review issue's object also gives its fix instructions.
enum class with_instructions : bool { no, yes };

/// "rounds": one object per review round: "round", what `round_members(w,
/// round)` adds, and its issues (file, problem and, if asked, instructions).
template <class W, class RoundMembers>
void review_rounds(W& w, const std::vector<store::review_round>& rounds, RoundMembers round_members,
                   with_instructions instructions) {
  w.Key("rounds");
  w.StartArray();
  for (const auto& r : rounds) {
    w.StartObject();
    w.Key("round");
    w.Uint(r.round);
    round_members(w, r);
    w.Key("issues");
    w.StartArray();
    for (const auto& i : r.issues) {
      w.StartObject();
      json_member(w, "file", i.file);
      json_member(w, "problem", i.problem);
      if (instructions == with_instructions::yes)
        json_member(w, "instructions", i.instructions);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace codehive::run_json
