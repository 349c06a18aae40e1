// Tasks: the plan, and each task's transitions with their history.
#include "storage/run_store_impl.hpp"

#include <map>
#include <set>

namespace codehive::store {

using namespace detail;

status run_store::put_plan(std::string_view run, const std::vector<task_spec>& plan) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return w;
  if (plan.empty()) return fail(errc::invalid_argument, "empty plan");
  std::set<std::string, std::less<>> ids;
  for (const auto& t : plan) {
    std::string where = "plan task \"" + t.id + "\": ";
    if (t.id.empty() || has_nul(t.id)) return fail(errc::invalid_argument, "plan task with an empty or NUL id");
    if (!ids.insert(t.id).second) return fail(errc::invalid_argument, where + "id appears twice");
    if (t.action != "create" && t.action != "update" && t.action != "delete")
      return fail(errc::invalid_argument, where + "unknown action \"" + t.action + "\"");
    if (t.type != "file" && t.type != "folder")
      return fail(errc::invalid_argument, where + "unknown type \"" + t.type + "\"");
    if (!t.edit.empty() && t.edit != "whole" && t.edit != "html_section" && t.edit != "search_replace")
      return fail(errc::invalid_argument, where + "unknown edit \"" + t.edit + "\"");
    if (t.path.empty() || has_nul(t.path)) return fail(errc::invalid_argument, where + "empty or NUL path");
  }
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return r;
  std::uint32_t existing = 0;
  if (auto sc = s.scan(s.tasks, keys::run_prefix(run), [&](std::string_view, std::string_view) {
        ++existing;
        return true;
      });
      !sc)
    return sc;
  for (const auto& t : plan) {
    auto v = s.get(s.tasks, keys::task(run, t.id));
    if (!v) return std::move(v).err();
    if (*v)
      return fail(errc::already_exists, "task " + t.id + " already exists in run " + std::string{run});
    for (const auto& d : t.depends_on) {
      if (d == t.id) return fail(errc::invalid_argument, "task " + t.id + " depends on itself");
      if (ids.count(d) > 0) continue;
      auto dv = s.get(s.tasks, keys::task(run, d));
      if (!dv) return std::move(dv).err();
      if (!*dv)
        return fail(errc::invalid_argument, "task " + t.id + " depends on unknown task " + d);
    }
  }
  auto at = now_ms();
  rocksdb::WriteBatch b;
  std::string id_list;
  std::uint32_t index = existing;
  for (const auto& t : plan) {
    task_record r;
    r.spec = t;
    r.plan_index = index++;
    r.created_ms = r.updated_ms = at;
    b.Put(s.tasks, keys::task(run, t.id), codec::encode(r));
    id_list += (id_list.empty() ? "" : ",") + codec::quote(t.id);
  }
  if (auto c = s.commit_with_event(b, run, "plan", "{\"tasks\":[" + id_list + "]}", at, "put_plan"); !c)
    return std::move(c).err();
  return ok();
}

namespace {

/// Applies the (checked) move `m` to `r`, the task's record as the moves
/// before left it, at `at`; returns its event's data.
std::string apply_move(task_record& r, const task_move& m, std::int64_t at) {
  task_state from = r.state;
  task_state to = m.to;
  const auto& info = m.info;
  r.state = to;
  r.updated_ms = at;
  switch (to) {
    case task_state::assigned:
      ++r.attempts;
      r.worker = info.worker;
      r.assigned_ms = at;
      break;
    case task_state::done:
      r.finished_ms = at;
      r.file_hash = info.file_hash;
      break;
    case task_state::failed:
      r.finished_ms = at;
      r.last_error_code = info.error_code;
      break;
    case task_state::pending:
      break;
  }
  if (!info.reason.empty() || to == task_state::failed) r.last_reason = info.reason;
  task_transition h;
  h.from = from;
  h.to = to;
  h.at_ms = at;
  h.attempt = r.attempts;
  h.worker = info.worker;
  h.reason = info.reason;
  h.error_code = info.error_code;
  r.history.push_back(h);

  std::string data = "{\"task\":" + codec::quote(m.task) + ",\"from\":\"" + to_string(from) + "\",\"to\":\""
                     + to_string(to) + "\",\"attempt\":" + std::to_string(r.attempts);
  if (!info.worker.empty()) data += ",\"worker\":" + codec::quote(info.worker);
  if (!info.reason.empty()) data += ",\"reason\":" + codec::quote(info.reason);
  if (!info.error_code.empty()) data += ",\"error_code\":" + codec::quote(info.error_code);
  if (!info.file_hash.empty()) data += ",\"file_hash\":" + codec::quote(info.file_hash);
  data += "}";
  return data;
}

}  // namespace

result<task_record> run_store::transition(std::string_view run, std::string_view task, task_state to,
                                          const transition_info& info) {
  auto r = transitions(run, {task_move{std::string{task}, to, info}});
  if (!r) return std::move(r).err();
  return std::move(r->front());
}

result<std::vector<task_record>> run_store::transitions(std::string_view run, const std::vector<task_move>& moves) {
  auto& s = *impl_;
  if (auto w = s.writable(); !w) return std::move(w).err();
  for (const auto& m : moves)
    if (m.task.empty() || has_nul(m.task)) return fail(errc::invalid_argument, "bad task id");
  std::vector<task_record> after;
  if (moves.empty()) return after;
  after.reserve(moves.size());
  std::lock_guard lock{s.mu};
  if (auto r = s.require_run(run); !r) return std::move(r).err();
  // Each task read once; a later move of the same task starts from the record
  // the earlier one left, and only the last record of each is written.
  std::map<std::string, task_record, std::less<>> latest;
  std::vector<std::string> events;
  events.reserve(moves.size());
  auto at = now_ms();
  for (const auto& m : moves) {
    auto it = latest.find(m.task);
    if (it == latest.end()) {
      auto t = s.read_task(run, m.task);
      if (!t) return std::move(t).err();
      it = latest.emplace(m.task, std::move(*t)).first;
    }
    if (!legal_transition(it->second.state, m.to))
      return fail(errc::illegal_transition, "task " + m.task + " of run " + std::string{run} + ": "
                                              + to_string(it->second.state) + " -> " + to_string(m.to)
                                              + " is not allowed");
    if (m.to == task_state::done && !m.info.file_hash.empty()) {
      auto hb = s.has_blob(m.info.file_hash);
      if (!hb) return std::move(hb).err();
      if (!*hb)
        return fail(errc::invalid_argument,
                    "task " + m.task + ": file version " + m.info.file_hash + " is not in the store");
    }
    events.push_back(apply_move(it->second, m, at));
    after.push_back(it->second);
  }
  rocksdb::WriteBatch b;
  for (const auto& [id, r] : latest) b.Put(s.tasks, keys::task(run, id), codec::encode(r));
  if (auto c = s.commit_with_events(b, run, "task", events, at, "transition"); !c) return std::move(c).err();
  return after;
}

result<task_record> run_store::get_task(std::string_view run, std::string_view task) const {
  if (task.empty() || has_nul(task)) return fail(errc::invalid_argument, "bad task id");
  return impl_->read_task(run, task);
}

}  // namespace codehive::store
