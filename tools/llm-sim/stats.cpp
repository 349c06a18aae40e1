#include "stats.hpp"

#include "json_out.hpp"

namespace llm_sim {

std::shared_ptr<void> stats::enter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++in_flight_;
    if (in_flight_ > max_in_flight_) max_in_flight_ = in_flight_;
  }
  return std::shared_ptr<void>(this, [](stats* s) { s->leave(); });
}

void stats::leave() {
  std::lock_guard<std::mutex> lock(mutex_);
  --in_flight_;
}

void stats::count_request(const chat_request& req) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++total_;
  ++by_api_[to_string(req.api)];
  if (req.has_bearer) ++with_bearer_;
  if (!req.role.empty()) ++by_role_[req.role];
  if (!req.path.empty()) {
    ++by_path_[req.path];
    ++by_role_path_[req.role + "|" + req.path];
  }
}

void stats::count_rule(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++by_rule_[name];
}

void stats::count_unmatched() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++unmatched_;
}

void stats::count_fault(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++faults_[kind];
}

void stats::count_rejected(const std::string& why) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++rejected_[why];
}

std::string stats::to_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  std::lock_guard<std::mutex> lock(mutex_);
  w.StartObject();
  w.Key("total");
  w.Int64(total_);
  json_out::counts(w, "by_role", by_role_);
  json_out::counts(w, "by_path", by_path_);
  json_out::counts(w, "by_role_path", by_role_path_);
  json_out::counts(w, "by_rule", by_rule_);
  json_out::counts(w, "by_api", by_api_);
  json_out::counts(w, "faults", faults_);
  json_out::counts(w, "rejected", rejected_);
  w.Key("unmatched");
  w.Int64(unmatched_);
  w.Key("with_bearer");
  w.Int64(with_bearer_);
  w.Key("in_flight");
  w.Int64(in_flight_);
  w.Key("max_in_flight");
  w.Int64(max_in_flight_);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void stats::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  total_ = unmatched_ = with_bearer_ = 0;
  max_in_flight_ = in_flight_;
  by_role_.clear();
  by_path_.clear();
  by_role_path_.clear();
  by_rule_.clear();
  by_api_.clear();
  faults_.clear();
  rejected_.clear();
}

}  // namespace llm_sim
