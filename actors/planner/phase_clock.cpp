#include "actors/planner/phase_clock.hpp"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace codehive::planner {

namespace {

msg::phase_time& slot_for(std::vector<msg::phase_time>& times, const std::string& phase) {
  auto it = std::find_if(times.begin(), times.end(),
                         [&](const msg::phase_time& t) { return t.phase == phase; });
  if (it != times.end())
    return *it;
  return times.emplace_back(msg::phase_time{phase, 0});
}

}  // namespace

void phase_clock::seed(std::vector<msg::phase_time> earlier) {
  for (auto& t : earlier)
    slot_for(closed_, t.phase).ms += std::max<std::int64_t>(0, t.ms);
}

void phase_clock::enter(const std::string& phase, std::int64_t now_ms) {
  stop(now_ms);
  open_ = phase;
  since_ms_ = now_ms;
  slot_for(closed_, phase);  // listed in the order entered, even at 0 ms
}

void phase_clock::stop(std::int64_t now_ms) {
  if (open_.empty())
    return;
  // A clock set back (NTP) must not make a phase shorter than it was.
  slot_for(closed_, open_).ms += std::max<std::int64_t>(0, now_ms - since_ms_);
  open_.clear();
}

std::vector<msg::phase_time> phase_clock::totals(std::int64_t now_ms) const {
  auto out = closed_;
  if (!open_.empty())
    slot_for(out, open_).ms += std::max<std::int64_t>(0, now_ms - since_ms_);
  return out;
}

std::string phase_event_json(const std::string& phase, const std::string& detail,
                             const std::vector<msg::phase_time>& totals) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("phase");
  w.String(phase.c_str(), static_cast<rapidjson::SizeType>(phase.size()));
  w.Key("detail");
  w.String(detail.c_str(), static_cast<rapidjson::SizeType>(detail.size()));
  w.Key("times_ms");
  w.StartArray();  // an array, not an object: keeps the order phases were entered
  for (const auto& t : totals) {
    w.StartObject();
    w.Key("phase");
    w.String(t.phase.c_str(), static_cast<rapidjson::SizeType>(t.phase.size()));
    w.Key("ms");
    w.Int64(t.ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::optional<phase_record> read_phase_event(const store::event& e) {
  if (e.type != phase_event)
    return std::nullopt;
  rapidjson::Document d;
  d.Parse(e.data_json.c_str(), e.data_json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("phase") || !d["phase"].IsString())
    return std::nullopt;
  phase_record r;
  r.phase = d["phase"].GetString();
  r.at_ms = e.at_ms;
  if (d.HasMember("detail") && d["detail"].IsString())
    r.detail = d["detail"].GetString();
  if (d.HasMember("times_ms") && d["times_ms"].IsArray())
    for (const auto& t : d["times_ms"].GetArray())
      if (t.IsObject() && t.HasMember("phase") && t["phase"].IsString() && t.HasMember("ms")
          && t["ms"].IsInt64())
        r.totals.push_back({t["phase"].GetString(), t["ms"].GetInt64()});
  return r;
}

std::optional<phase_record> last_phase(const std::vector<store::event>& events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it)
    if (auto r = read_phase_event(*it))
      return r;
  return std::nullopt;
}

}  // namespace codehive::planner
