#include "tests/planner/harness.hpp"

#include <stdexcept>

#include "actors/prompts.hpp"
#include "actors/settings.hpp"

namespace codehive::test {

namespace {

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

std::string plan_json(
  const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>& tasks) {
  std::string out = R"({"tasks":[)";
  bool first = true;
  for (const auto& [id, path, deps] : tasks) {
    if (!first)
      out += ",";
    first = false;
    out += R"({"id":)" + quoted(id) + R"(,"action":"create","type":"file","path":)" + quoted(path)
           + R"(,"description":"the file )" + path + R"(","instructions":"write it","depends_on":[)";
    for (std::size_t i = 0; i < deps.size(); ++i)
      out += (i ? "," : "") + quoted(deps[i]);
    out += "]}";
  }
  return out + "]}";
}

planner::plan_answer plan_reply(const planner::ask_plan& asked, std::string content) {
  planner::plan_answer a;
  a.call = asked.call;
  a.ok = true;
  a.content = std::move(content);
  return a;
}

harness::harness() {
  auto opened = store::run_store::open(dir / "store");
  if (!opened)
    throw std::runtime_error("cannot open the test store: " + opened.err().describe());
  store = std::move(*opened);
  run_id = *store->create_run("a board", R"({"out_dir":"/tmp/out","max_rounds":2})");
  settings = std::make_shared<pipeline_settings>();
  settings->prompts = builtin_prompts();
  on_plan = [](const planner::ask_plan& c) {
    auto a = plan_reply(c, plan_json({{"t1", "index.html", {}}, {"t2", "app.js", {"t1"}}}));
    a.use.calls = 1;
    a.use.prompt_tokens = 100;
    a.use.completion_tokens = 50;
    return a;
  };
  on_code = [](const msg::code_request&, int) { return std::optional<planner::failure>{}; };
  on_fix = [](const msg::fix_request&) { return std::optional<planner::failure>{}; };
  on_validate = [](const std::vector<std::string>&) { return msg::validation_report{}; };
  on_apply = [](const msg::file_edit&) { return std::optional<planner::failure>{}; };
  on_review = [](const msg::review_request&) { return std::vector<msg::review_issue>{}; };
  restart();
}

void harness::restart() {
  pending.clear();
  result.reset();
  ctl = std::make_unique<planner::controller>(settings, *store, "large",
                                              [this] { return clock_ms; });
}

void harness::start(int local_coders, int local_fixers, msg::budget limits) {
  ctl->add_local_slots(static_cast<std::size_t>(local_coders),
                       static_cast<std::size_t>(local_fixers));
  msg::run_request req;
  req.run_id = run_id;
  req.request = request;
  req.out_dir = "/tmp/out";
  req.max_rounds = 2;
  req.limits = limits;
  req.approve_plan = approve_plan;
  if (!ctl->start(req, true))
    throw std::runtime_error("the controller refused to start");
  collect();
}

void harness::collect() {
  for (auto& c : ctl->take_commands())
    pending.push_back(std::move(c));
}

bool harness::answer_next() {
  if (pending.empty())
    return false;
  auto cmd = std::move(pending.front());
  pending.pop_front();
  answer(std::move(cmd));
  return true;
}

void harness::run_until_delivered(int limit) {
  while (!result && limit-- > 0 && answer_next()) {
  }
}

store::task_state harness::stored_state(const std::string& task_id) const {
  auto t = store->get_task(run_id, task_id);
  if (!t)
    throw std::runtime_error("no stored task " + task_id);
  return t->state;
}

namespace {

/// The edit a healthy coder or fixer gives: the whole file.
msg::file_edit whole_file(const std::string& run, const std::string& id, const std::string& path,
                          const std::string& content, const std::string& role) {
  msg::file_edit e;
  e.run_id = run;
  e.task_id = id;
  e.path = path;
  e.action = msg::task_action::create;
  e.kind = msg::edit_kind::whole;
  e.content = content;
  e.use.role = role;
  e.use.calls = 1;
  e.use.prompt_tokens = 40;
  e.use.completion_tokens = 20;
  e.use.tokens_per_s = 40;
  return e;
}

}  // namespace

void harness::paid(const msg::usage& u, const std::string& role) {
  // As the HTTP loop's ledger writer does for every local model call.
  store::ledger_entry e;
  e.use.role = role;
  e.use.model = "sim";
  e.use.prompt_tokens = u.prompt_tokens;
  e.use.completion_tokens = u.completion_tokens;
  if (!store->append_ledger(run_id, e))
    throw std::runtime_error("cannot write the ledger");
}

void harness::answer(planner::command cmd) {
  using namespace planner;
  std::visit(
    [this](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<C, list_files>) {
        ctl->on_files_listed(project_files);
      } else if constexpr (std::is_same_v<C, ask_plan>) {
        ++plans_asked;
        auto a = on_plan(c);
        paid(a.use, "planner");
        ctl->on_plan_reply(a);
      } else if constexpr (std::is_same_v<C, read_files>) {
        std::vector<msg::context_file> files;
        for (const auto& p : c.paths)
          files.push_back({p, "", "", false});
        ctl->on_files_read(c.ticket, std::move(files));
      } else if constexpr (std::is_same_v<C, ask_coder>) {
        ++coded[c.request.task.path];
        if (auto f = on_code(c.request, c.slot)) {
          ctl->on_edit_failed(c.ticket, *f);
        } else {
          auto e = whole_file(run_id, c.request.task.id, c.request.task.path,
                              "// " + c.request.task.path + "\n", "coder");
          paid(e.use, "coder");
          ctl->on_edit_made(c.ticket, std::move(e));
        }
      } else if constexpr (std::is_same_v<C, ask_fixer>) {
        ++fixed[c.request.issue.file];
        if (auto f = on_fix(c.request))
          ctl->on_edit_failed(c.ticket, *f);
        else
          ctl->on_edit_made(c.ticket, whole_file(run_id, c.request.fix_id, c.request.issue.file,
                                                 "// fixed " + c.request.issue.file + "\n",
                                                 "fixer"));
      } else if constexpr (std::is_same_v<C, apply_edit>) {
        if (auto refused = on_apply(c.edit)) {
          ctl->on_apply_failed(c.ticket, *refused);
          collect();
          return;
        }
        if (c.edit.kind == msg::edit_kind::folder) {  // made on disk, no stored version
          ++folders_made;
          msg::applied_file a;
          a.path = c.edit.path;
          a.deleted = c.edit.action == msg::task_action::remove;
          ctl->on_applied(c.ticket, a);
          collect();
          return;
        }
        // As the real tracker: the version goes to the store first.
        auto v = store->put_file(run_id, c.edit.path, c.edit.content,
                                 store::from_task(c.edit.task_id));
        if (!v) {
          failure f;
          f.reason = v.err().describe();
          f.code = "io_error";
          f.local_io = true;
          ctl->on_apply_failed(c.ticket, f);
          collect();
          return;
        }
        msg::applied_file a;
        a.path = c.edit.path;
        a.version = static_cast<std::int64_t>(v->version);
        a.hash = v->hash;
        a.bytes = static_cast<std::int64_t>(c.edit.content.size());
        a.changed_in_run = true;
        ctl->on_applied(c.ticket, a);
      } else if constexpr (std::is_same_v<C, validate>) {
        validations.push_back(prechecks.size());
        ctl->on_validated(on_validate(c.paths));
      } else if constexpr (std::is_same_v<C, precheck>) {
        prechecks.push_back(c);
      } else if constexpr (std::is_same_v<C, read_review_files>) {
        std::vector<msg::context_file> files;
        for (const auto& p : c.paths)
          files.push_back({p, "", "x", true});
        ctl->on_review_files(std::move(files));
      } else if constexpr (std::is_same_v<C, review>) {
        ++reviews_asked;
        msg::review_result r;
        r.issues = on_review(c.request);
        r.use.calls = 1;
        r.use.prompt_tokens = 300;
        r.use.completion_tokens = 30;
        paid(r.use, "reviewer");
        ctl->on_reviewed(std::move(r));
      } else if constexpr (std::is_same_v<C, write_exports>) {
        ++exports_written;
        for (const auto& f : c.files)
          if (f.name == "tasks.json")
            tasks_json = f.content;
      } else if constexpr (std::is_same_v<C, schedule_exports>) {
        export_delays.push_back(c.delay_ms);
        if (hold_export_timers)
          ++export_timers_held;
        else
          ctl->on_exports_due();  // as if the delay were over
      } else if constexpr (std::is_same_v<C, report_progress>) {
        progress_kinds.emplace_back(to_string(c.event.kind));
        progress_events.push_back(c.event);
      } else if constexpr (std::is_same_v<C, collect_final_records>) {
        ctl->on_final_records(std::nullopt, std::nullopt);
      } else if constexpr (std::is_same_v<C, deliver>) {
        result = c.result;
        final_exports = c.exports;
      }
    },
    cmd);
  collect();
}

void one_fix_round(harness& h) {
  h.on_validate = [&h](const std::vector<std::string>&) {
    msg::validation_report r;
    auto app = h.store->get_file(h.run_id, "app.js");
    if (app && app->content != "// fixed app.js\n")
      r.findings.push_back({"js_syntax", "app.js", 3, "Unexpected token"});
    return r;
  };
  h.on_review = [](const msg::review_request& req) {
    std::vector<msg::review_issue> issues;
    for (const auto& f : req.findings)
      issues.push_back({f.file, f.message, "fix line 3", msg::edit_kind::none, 0});
    return issues;
  };
}

}  // namespace codehive::test
