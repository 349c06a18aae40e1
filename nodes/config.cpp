#include "nodes/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <vector>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include "common/read_file.hpp"
#include "llm/model_spec.hpp"
#include "llm/profile.hpp"
#include "nodes/commands/settings_resolution.hpp"

namespace codehive {

extern const char* const builtin_schema_plan;
extern const char* const builtin_schema_edit;
extern const char* const builtin_schema_review;
extern const char* const builtin_schema_summary;

namespace {

const rapidjson::Value* member(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject())
    return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// Typed getters: a present value of the wrong type is an error.
bool get(const rapidjson::Value& obj, const char* key, std::string& out, std::string& err) {
  if (auto v = member(obj, key)) {
    if (!v->IsString()) {
      err = std::string{"\""} + key + "\" must be a string";
      return false;
    }
    out = v->GetString();
  }
  return true;
}

// Numbers are range-checked like the flags (issue 16: `"coders": 1e9` hung
// a run): the limit is named in the error. Checked as double before any
// cast, so 1e30 never reaches an int.
template <class T>
bool get_num(const rapidjson::Value& obj, const char* key, T& out, double lo, double hi, std::string& err) {
  if (auto v = member(obj, key)) {
    if (!v->IsNumber()) {
      err = std::string{"\""} + key + "\" must be a number";
      return false;
    }
    double d = v->GetDouble();
    auto shown = [](double x) {
      std::ostringstream ss;
      ss << x;
      return ss.str();
    };
    if (!(d >= lo && d <= hi)) {
      err = std::string{"\""} + key + "\" must be between " + shown(lo) + " and " + shown(hi) + " (got " + shown(d) + ")";
      return false;
    }
    if constexpr (std::is_integral_v<T>) {
      if (d != static_cast<double>(static_cast<long long>(d))) {
        err = std::string{"\""} + key + "\" must be a whole number (got " + shown(d) + ")";
        return false;
      }
    }
    out = static_cast<T>(d);
  }
  return true;
}

/// A list of names (e.g. environment variables), each a non-empty string.
bool get(const rapidjson::Value& obj, const char* key, std::vector<std::string>& out,
         std::string& err) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd())
    return true;
  if (!it->value.IsArray()) {
    err = std::string{key} + " must be an array of strings";
    return false;
  }
  out.clear();
  for (const auto& x : it->value.GetArray()) {
    if (!x.IsString() || x.GetStringLength() == 0) {
      err = std::string{key} + " must hold non-empty strings";
      return false;
    }
    out.emplace_back(x.GetString(), x.GetStringLength());
  }
  return true;
}

bool get(const rapidjson::Value& obj, const char* key, bool& out, std::string& err) {
  if (auto v = member(obj, key)) {
    if (!v->IsBool()) {
      err = std::string{"\""} + key + "\" must be true or false";
      return false;
    }
    out = v->GetBool();
  }
  return true;
}

bool get_ms(const rapidjson::Value& obj, const char* key, std::chrono::milliseconds& out, double lo_s,
            double hi_s, std::string& err) {
  double s = out.count() / 1000.0;
  if (!get_num(obj, key, s, lo_s, hi_s, err))
    return false;
  out = std::chrono::milliseconds{static_cast<long long>(s * 1000)};
  return true;
}

// Edit distance, for naming the closest known key of a misspelt one.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// An unknown key is an error naming the closest known one: a misspelt
// `contxt_tokens` must not silently fall back to the default. Keys starting
// with '_' are comments.
bool known_keys(const rapidjson::Value& obj, std::initializer_list<const char*> known, std::string& err) {
  if (!obj.IsObject())
    return true;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    if (key.empty() || key.front() == '_')
      continue;
    if (std::any_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
      continue;
    const char* best = nullptr;
    std::size_t best_d = std::string::npos;
    for (const char* k : known) {
      auto d = distance(key, k);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
    err = "unknown key \"" + key + "\"";
    if (best != nullptr && best_d <= std::max<std::size_t>(3, key.size() / 3))
      err += " (did you mean \"" + std::string{best} + "\"?)";
    else {
      err += " (known keys:";
      for (const char* k : known)
        err += std::string{" "} + k;
      err += ")";
    }
    return false;
  }
  return true;
}

// "auto" (learn from the server) or a pinned choice.
bool get_choice(const rapidjson::Value& obj, const char* key, std::initializer_list<const char*> choices,
                std::string& out, std::string& err) {
  auto v = member(obj, key);
  if (!v)
    return true;
  std::string text = v->IsString() ? v->GetString() : v->IsBool() ? (v->GetBool() ? "true" : "false") : "";
  for (const char* c : choices)
    if (text == c) {
      out = text;
      return true;
    }
  err = std::string{"\""} + key + "\" must be one of:";
  for (const char* c : choices)
    err += std::string{" "} + c;
  return false;
}

bool load_profile(const rapidjson::Value& v, llm::endpoint_config& ep, std::string& err) {
  auto& p = ep.profile;
  std::string structured = "auto", temperature = "auto", cap = "auto", thinking = "auto";
  if (!(get_choice(v, "structured_output", {"auto", "json_schema", "json_object", "prompt_only"}, structured, err)
        && get_choice(v, "send_temperature", {"auto", "true", "false"}, temperature, err)
        && get_choice(v, "max_tokens_param", {"auto", "max_tokens", "max_completion_tokens"}, cap, err)
        && get_choice(v, "disable_thinking", {"auto", "true", "false"}, thinking, err)
        && get(v, "keep_alive", p.keep_alive, err)))
    return false;
  if (structured == "json_schema")
    p.structured = llm::structured_mode::json_schema;
  else if (structured == "json_object")
    p.structured = llm::structured_mode::json_object;
  else if (structured == "prompt_only")
    p.structured = llm::structured_mode::prompt_only;
  if (temperature != "auto")
    p.temperature = temperature == "true";
  if (cap != "auto")
    p.max_completion_tokens = cap == "max_completion_tokens";
  if (thinking != "auto")
    p.think = thinking == "true";
  return true;
}

bool load_headers(const rapidjson::Value& v, llm::endpoint_config& ep, std::string& err) {
  auto h = member(v, "headers");
  if (!h)
    return true;
  if (!h->IsObject()) {
    err = "\"headers\" must be an object {\"Header-Name\": \"value or $ENV_VAR\"}";
    return false;
  }
  ep.headers.clear();
  for (auto it = h->MemberBegin(); it != h->MemberEnd(); ++it) {
    std::string name = it->name.GetString();
    if (!it->value.IsString()) {
      err = "headers: \"" + name + "\" must be a string";
      return false;
    }
    bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (!token) {
      err = "headers: \"" + name + "\" is not a valid header name";
      return false;
    }
    ep.headers.emplace_back(std::move(name), it->value.GetString());
  }
  return true;
}

bool load_endpoint(const rapidjson::Value& v, const char* name, llm::endpoint_config& ep,
                   std::string& err) {
  if (!v.IsObject()) {
    err = std::string{"\""} + name + "\" must be an object";
    return false;
  }
  std::string where = std::string{name} + ": ";
  auto fail = [&] {
    err = where + err;
    return false;
  };
  if (!known_keys(v,
                  {"spec", "api_key_env", "allow_insecure_key", "headers", "context_tokens", "max_in_flight",
                   "connect_timeout_s", "call_timeout_s", "max_retries", "price_prompt_per_mtok",
                   "price_completion_per_mtok", "max_reply_mib", "structured_output", "send_temperature",
                   "max_tokens_param", "disable_thinking", "keep_alive", "stream", "first_token_timeout_s",
                   "idle_timeout_s"},
                  err))
    return fail();
  std::string spec;
  if (!get(v, "spec", spec, err))
    return fail();
  if (!spec.empty()) {
    auto parsed = llm::parse_model_spec(spec);
    if (!parsed) {
      err = std::string{name} + ".spec: " + parsed.err().message;
      return false;
    }
    ep.spec = *parsed;
  }
  double reply_mib = static_cast<double>(ep.max_reply_bytes) / (1 << 20);
  if (!(get(v, "api_key_env", ep.api_key_env, err) && get(v, "allow_insecure_key", ep.allow_insecure_key, err)
        && load_headers(v, ep, err)
        && get_num(v, "context_tokens", ep.context_tokens, 256, 16777216, err)
        && get_num(v, "max_in_flight", ep.max_in_flight, 1, 1024, err)
        && get_ms(v, "connect_timeout_s", ep.connect_timeout, 0.001, 3600, err)
        && get_ms(v, "call_timeout_s", ep.call_timeout, 0.001, 86400, err)
        && get_num(v, "max_retries", ep.max_retries, 0, 100, err)
        && get_num(v, "price_prompt_per_mtok", ep.price_prompt_per_mtok, 0, 1e6, err)
        && get_num(v, "price_completion_per_mtok", ep.price_completion_per_mtok, 0, 1e6, err)
        && get_num(v, "max_reply_mib", reply_mib, 0.001, 4096, err) && load_profile(v, ep, err)
        && get(v, "stream", ep.stream, err)
        && get_ms(v, "first_token_timeout_s", ep.first_token_timeout, 0, 86400, err)
        && get_ms(v, "idle_timeout_s", ep.idle_timeout, 0, 86400, err)))
    return fail();
  ep.max_reply_bytes = static_cast<std::size_t>(reply_mib * (1 << 20));
  return true;
}

codehive_config defaults() {
  codehive_config c;
  c.planner_model.spec = *llm::parse_model_spec("ollama://127.0.0.1:11434/qwen2.5-coder:32b");
  c.planner_model.context_tokens = 32768;
  c.planner_model.max_in_flight = 2;
  c.planner_model.call_timeout = std::chrono::minutes{10};
  c.coder_model.spec = *llm::parse_model_spec("ollama://127.0.0.1:11434/qwen2.5-coder:7b");
  c.coder_model.context_tokens = 16384;
  c.coder_model.max_in_flight = 4;
  c.coder_model.call_timeout = std::chrono::minutes{5};
  // Every server codehive talks to streams (Ollama NDJSON, OpenAI SSE): the
  // wait in a busy server's queue is then told apart from a stalled answer
  // (llm::stream_timeouts), and a reply is measured as it arrives.
  c.planner_model.stream = true;
  c.coder_model.stream = true;
  c.pipeline.prompts = builtin_prompts();
  c.pipeline.schemas = {builtin_schema_plan, builtin_schema_edit, builtin_schema_review,
                        builtin_schema_summary};
  return c;
}

}  // namespace

std::filesystem::path executable_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : p.parent_path();
}

std::optional<std::filesystem::path> installed_config_path() {
  std::vector<std::filesystem::path> candidates;
#ifdef CODEHIVE_SOURCE_DIR
  candidates.push_back(std::filesystem::path{CODEHIVE_SOURCE_DIR} / "configs" / "codehive.json");
#endif
  candidates.push_back(executable_dir() / ".." / "share" / "codehive" / "codehive.json");
  for (const auto& c : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(c, ec))
      return c;
  }
  return std::nullopt;
}

std::optional<codehive_config> load_config(const std::filesystem::path& path, std::string& error) {
  auto cfg = defaults();
  if (path.empty())
    return cfg;
  auto text = read_whole_file(path);
  if (!text) {
    error = "cannot read config file " + path.string();
    return std::nullopt;
  }
  cfg.source = path;
  rapidjson::Document doc;
  doc.Parse(text->c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    error = path.string() + ": not a JSON object"
            + (doc.HasParseError()
                 ? std::string{" ("} + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset "
                     + std::to_string(doc.GetErrorOffset()) + ")"
                 : std::string{});
    return std::nullopt;
  }
  std::string err;
  auto fail = [&](const std::string& where) {
    error = path.string() + ": " + where + err;
    return std::nullopt;
  };
  if (!known_keys(doc,
                  {"planner_model", "coder_model", "run", "retries", "context", "plan", "validators",
                   "prices", "store", "cluster", "git", "project", "prompts_dir", "schemas_dir"},
                  err))
    return fail("");
  if (auto v = member(doc, "planner_model"); v && !load_endpoint(*v, "planner_model", cfg.planner_model, err))
    return fail("");
  if (auto v = member(doc, "coder_model"); v && !load_endpoint(*v, "coder_model", cfg.coder_model, err))
    return fail("");
  if (auto v = member(doc, "run")) {
    auto& r = cfg.run;
    // The same limits as the flags (--coders 1-256, --max-rounds 0-100).
    if (!(known_keys(*v, {"coders", "fixers", "max_rounds", "max_tokens", "max_cost_usd", "max_time_s"}, err)
          && get_num(*v, "coders", r.coders, 1, 256, err) && get_num(*v, "fixers", r.fixers, 1, 256, err)
          && get_num(*v, "max_rounds", r.max_rounds, 0, 100, err)
          && get_num(*v, "max_tokens", r.max_tokens, 0, 1e15, err)
          && get_num(*v, "max_cost_usd", r.max_cost_usd, 0, 1e9, err)
          && get_num(*v, "max_time_s", r.max_time_s, 0, 1e9, err)))
      return fail("run: ");
  }
  auto& p = cfg.pipeline;
  if (auto v = member(doc, "retries")) {
    if (!(known_keys(*v,
                     {"plan_attempts", "edit_attempts", "small_model_attempts_per_task",
                      "large_model_attempts_per_task", "same_issue_limit"},
                     err)
          && get_num(*v, "plan_attempts", p.plan_attempts, 1, 100, err)
          && get_num(*v, "edit_attempts", p.edit_attempts, 1, 100, err)
          && get_num(*v, "small_model_attempts_per_task", p.retry.small_attempts, 1, 100, err)
          && get_num(*v, "large_model_attempts_per_task", p.retry.large_attempts, 0, 100, err)
          && get_num(*v, "same_issue_limit", p.same_issue_limit, 1, 100, err)))
      return fail("retries: ");
  }
  if (auto v = member(doc, "context")) {
    if (!(known_keys(*v, {"max_content_chars", "summary_input_chars", "summarize_with_model", "temperature"}, err)
          && get_num(*v, "max_content_chars", p.context_chars, 100, 1e9, err)
          && get_num(*v, "summary_input_chars", p.summary_input_chars, 100, 1e9, err)
          && get(*v, "summarize_with_model", p.summarize_with_model, err)
          && get_num(*v, "temperature", p.temperature, 0, 2, err)))
      return fail("context: ");
  }
  // A plan for a project that exists: how much of it the planning prompt
  // lists, how many deletes the request need not name (actors/plan_checks.hpp).
  if (auto v = member(doc, "plan")) {
    if (!(known_keys(*v, {"files_listed", "max_unrequested_deletes", "max_tasks"}, err)
          && get_num(*v, "files_listed", p.plan_map_entries, 1, 1e6, err)
          && get_num(*v, "max_unrequested_deletes", p.max_unrequested_deletes, 0, 1e6, err)
          && get_num(*v, "max_tasks", p.max_plan_tasks, 1, 1e7, err)))
      return fail("plan: ");
  }
  // An existing project's binary files: kept in the store up to this size.
  if (auto v = member(doc, "project")) {
    if (!(known_keys(*v, {"max_binary_bytes"}, err)
          && get_num(*v, "max_binary_bytes", p.max_binary_bytes, 1, 1e9, err)))
      return fail("project: ");
  }
  if (auto v = member(doc, "validators")) {
    auto& val = p.validators;
    if (!(known_keys(*v, {"json", "js", "html", "browser", "browser_page", "browser_click", "command",
                          "command_timeout_s", "command_env"},
                     err)
          && get(*v, "browser_click", val.browser_click, err)
          && get(*v, "json", val.json, err) && get(*v, "js", val.js, err)
          && get(*v, "html", val.html, err) && get(*v, "browser", val.browser, err)
          && get(*v, "browser_page", val.browser_page, err)
          && get(*v, "command", val.command, err)
          && get(*v, "command_env", val.command_env, err)
          && get_ms(*v, "command_timeout_s", val.command_timeout, 0.001, 86400, err)))
      return fail("validators: ");
  }
  if (auto v = member(doc, "prices")) {
    if (!v->IsObject()) {
      error = path.string() + ": prices: must be an object {\"MODEL\": {\"prompt_per_mtok\": N, "
                              "\"completion_per_mtok\": N}}";
      return std::nullopt;
    }
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      model_price price;
      std::string model = it->name.GetString();
      if (!it->value.IsObject()
          || !(known_keys(it->value, {"prompt_per_mtok", "completion_per_mtok"}, err)
               && get_num(it->value, "prompt_per_mtok", price.prompt_per_mtok, 0, 1e6, err)
               && get_num(it->value, "completion_per_mtok", price.completion_per_mtok, 0, 1e6, err)))
        return fail("prices: " + model + ": ");
      cfg.prices[model] = price;
    }
  }
  if (auto v = member(doc, "git")) {
    if (!(known_keys(*v, {"commit", "branch"}, err) && get(*v, "commit", p.git.commit, err)
          && get(*v, "branch", p.git.branch, err)))
      return fail("git: ");
    if (p.git.branch != "current" && p.git.branch != "run") {
      error = path.string() + ": git: branch must be \"current\" or \"run\", not \"" + p.git.branch
              + "\"";
      return std::nullopt;
    }
  }
  if (auto v = member(doc, "store")) {
    if (!(known_keys(*v, {"path", "sync"}, err) && get(*v, "path", cfg.store.path, err)
          && get(*v, "sync", cfg.store.sync, err)))
      return fail("store: ");
  }
  auto base = path.parent_path();
  if (auto v = member(doc, "cluster")) {
    auto& c = cfg.cluster;
    if (!(known_keys(*v,
                     {"token_file", "heartbeat_interval_ms", "connection_timeout_ms",
                      "max_frame_bytes", "tls"},
                     err)
          && get(*v, "token_file", c.token_file, err)
          && get_num(*v, "heartbeat_interval_ms", c.heartbeat_interval_ms, 0, 3600000, err)
          && get_num(*v, "connection_timeout_ms", c.connection_timeout_ms, 0, 3600000, err)
          && get_num(*v, "max_frame_bytes", c.max_frame_bytes, 65536, 4294967295.0, err)))
      return fail("cluster: ");
    if (auto t = member(*v, "tls")) {
      if (!(known_keys(*t, {"certificate", "key", "ca_file"}, err)
            && get(*t, "certificate", c.tls_certificate, err) && get(*t, "key", c.tls_key, err)
            && get(*t, "ca_file", c.tls_ca_file, err)))
        return fail("cluster.tls: ");
    }
    // Files named in the config are relative to the config's folder.
    for (auto* f : {&c.token_file, &c.tls_certificate, &c.tls_key, &c.tls_ca_file})
      if (!f->empty() && std::filesystem::path{*f}.is_relative())
        *f = (base / *f).string();
    if (c.heartbeat_interval_ms < 0 || c.connection_timeout_ms < 0) {
      error = path.string() + ": cluster: heartbeat_interval_ms and connection_timeout_ms must "
                              "not be negative";
      return std::nullopt;
    }
  }
  std::string prompts_dir = "prompts";
  std::string schemas_dir = "schemas";
  if (!get(doc, "prompts_dir", prompts_dir, err) || !get(doc, "schemas_dir", schemas_dir, err))
    return fail("");
  std::vector<std::string> missing;
  p.prompts = load_prompts(base / prompts_dir, missing);
  for (const auto& m : missing)
    spdlog::warn("prompt template {} not found; using the built-in one", m);
  auto schema = [&](const char* name, std::string& out) {
    if (auto s = read_whole_file(base / schemas_dir / name))
      out = *s;
    else
      spdlog::warn("schema {} not found; using the built-in one", (base / schemas_dir / name).string());
  };
  schema("plan.json", p.schemas.plan);
  schema("edit.json", p.schemas.edit);
  schema("review.json", p.schemas.review);
  schema("summary.json", p.schemas.summary);
  if (cfg.run.coders < 1 || cfg.run.fixers < 1 || cfg.run.max_rounds < 0 || p.plan_attempts < 1
      || p.edit_attempts < 1 || p.retry.small_attempts < 1 || p.retry.large_attempts < 0) {
    error = path.string() + ": coders, fixers and attempts must be at least 1, max_rounds at least 0";
    return std::nullopt;
  }
  return cfg;
}

void apply_default_key(codehive_config& cfg) {
  if (!read_environment().openai_key)
    return;
  // OPENAI_API_KEY goes only where it is meant to: the planner's hosted
  // (https) endpoint, and api.openai.com itself. Never to a plain-HTTP coder
  // on another machine; any other endpoint names its key in the config.
  auto hosted_openai = [](const llm::endpoint_config& ep) {
    return llm::is_https_url(ep.spec.base_url)
           && (ep.spec.base_url == "https://api.openai.com/v1"
               || ep.spec.base_url.starts_with("https://api.openai.com/"));
  };
  for (auto* ep : {&cfg.planner_model, &cfg.coder_model}) {
    if (ep->spec.kind != llm::api::openai || !ep->api_key_env.empty())
      continue;
    bool planner = ep == &cfg.planner_model;
    if ((planner && llm::is_https_url(ep->spec.base_url)) || hosted_openai(*ep))
      ep->api_key_env = "OPENAI_API_KEY";
  }
}

std::optional<codehive_config> load_config_for(const std::string& flag, std::string& error) {
  std::error_code ec;
  if (!flag.empty() && !std::filesystem::is_regular_file(flag, ec)) {
    error = "config file not found: " + flag;
    return std::nullopt;
  }
  auto path = config_file(flag, read_environment(), installed_config_path());
  return load_config(path.value_or(std::filesystem::path{}), error);
}

bool apply_model_flags(codehive_config& cfg, const std::optional<std::string>& planner,
                       const std::optional<std::string>& coder, bool key_from_env,
                       std::string& error) {
  for (auto [flag, value, ep] : {std::tuple{"--planner", &planner, &cfg.planner_model},
                                 std::tuple{"--coder", &coder, &cfg.coder_model}}) {
    if (!*value)
      continue;
    auto spec = llm::parse_model_spec(**value);
    if (!spec) {
      error = std::string{flag} + ": " + spec.err().message;
      return false;
    }
    ep->spec = *spec;
  }
  if (key_from_env)
    apply_default_key(cfg);
  // One model, one context size (and keep_alive) when the planner and the
  // coders share an Ollama model: Ollama reloads it on every num_ctx change.
  llm::share_model_settings({&cfg.planner_model, &cfg.coder_model});
  return true;
}

}  // namespace codehive
