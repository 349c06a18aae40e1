#include "nodes/config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include "llm/model_spec.hpp"

namespace codehive {

extern const char* const builtin_schema_plan;
extern const char* const builtin_schema_edit;
extern const char* const builtin_schema_review;
extern const char* const builtin_schema_summary;

namespace {

std::optional<std::string> slurp(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

template <class T>
bool get_num(const rapidjson::Value& obj, const char* key, T& out, std::string& err) {
  if (auto v = member(obj, key)) {
    if (!v->IsNumber()) {
      err = std::string{"\""} + key + "\" must be a number";
      return false;
    }
    out = static_cast<T>(v->GetDouble());
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

bool get_ms(const rapidjson::Value& obj, const char* key, std::chrono::milliseconds& out,
            std::string& err) {
  double s = out.count() / 1000.0;
  if (!get_num(obj, key, s, err))
    return false;
  out = std::chrono::milliseconds{static_cast<long long>(s * 1000)};
  return true;
}

bool load_endpoint(const rapidjson::Value& v, const char* name, llm::endpoint_config& ep,
                   std::string& err) {
  if (!v.IsObject()) {
    err = std::string{"\""} + name + "\" must be an object";
    return false;
  }
  std::string spec;
  if (!get(v, "spec", spec, err))
    return false;
  if (!spec.empty()) {
    auto parsed = llm::parse_model_spec(spec);
    if (!parsed) {
      err = std::string{name} + ".spec: " + parsed.err().message;
      return false;
    }
    ep.spec = *parsed;
  }
  return get(v, "api_key_env", ep.api_key_env, err)
         && get_num(v, "context_tokens", ep.context_tokens, err)
         && get_num(v, "max_in_flight", ep.max_in_flight, err)
         && get_ms(v, "connect_timeout_s", ep.connect_timeout, err)
         && get_ms(v, "call_timeout_s", ep.call_timeout, err)
         && get_num(v, "max_retries", ep.max_retries, err)
         && get_num(v, "price_prompt_per_mtok", ep.price_prompt_per_mtok, err)
         && get_num(v, "price_completion_per_mtok", ep.price_completion_per_mtok, err);
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

std::optional<std::filesystem::path> default_config_path() {
  if (const char* env = std::getenv("CODEHIVE_CONFIG"); env && *env)
    return std::filesystem::path{env};
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
  auto text = slurp(path);
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
  if (auto v = member(doc, "planner_model"); v && !load_endpoint(*v, "planner_model", cfg.planner_model, err))
    return fail("");
  if (auto v = member(doc, "coder_model"); v && !load_endpoint(*v, "coder_model", cfg.coder_model, err))
    return fail("");
  if (auto v = member(doc, "run")) {
    auto& r = cfg.run;
    if (!(get_num(*v, "coders", r.coders, err) && get_num(*v, "fixers", r.fixers, err)
          && get_num(*v, "max_rounds", r.max_rounds, err)
          && get_num(*v, "max_tokens", r.max_tokens, err)
          && get_num(*v, "max_cost_usd", r.max_cost_usd, err)
          && get_num(*v, "max_time_s", r.max_time_s, err)))
      return fail("run: ");
  }
  auto& p = cfg.pipeline;
  if (auto v = member(doc, "retries")) {
    if (!(get_num(*v, "plan_attempts", p.plan_attempts, err)
          && get_num(*v, "edit_attempts", p.edit_attempts, err)
          && get_num(*v, "small_model_attempts_per_task", p.retry.small_attempts, err)
          && get_num(*v, "large_model_attempts_per_task", p.retry.large_attempts, err)
          && get_num(*v, "same_issue_limit", p.same_issue_limit, err)))
      return fail("retries: ");
  }
  if (auto v = member(doc, "context")) {
    if (!(get_num(*v, "max_content_chars", p.context_chars, err)
          && get_num(*v, "summary_input_chars", p.summary_input_chars, err)
          && get(*v, "summarize_with_model", p.summarize_with_model, err)
          && get_num(*v, "temperature", p.temperature, err)))
      return fail("context: ");
  }
  if (auto v = member(doc, "validators")) {
    auto& val = p.validators;
    if (!(get(*v, "json", val.json, err) && get(*v, "js", val.js, err)
          && get(*v, "html", val.html, err) && get(*v, "browser", val.browser, err)
          && get(*v, "browser_page", val.browser_page, err)
          && get(*v, "command", val.command, err)
          && get_ms(*v, "command_timeout_s", val.command_timeout, err)))
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
          || !(get_num(it->value, "prompt_per_mtok", price.prompt_per_mtok, err)
               && get_num(it->value, "completion_per_mtok", price.completion_per_mtok, err))
          || price.prompt_per_mtok < 0 || price.completion_per_mtok < 0)
        return fail("prices: " + model + ": ");
      cfg.prices[model] = price;
    }
  }
  if (auto v = member(doc, "store")) {
    if (!(get(*v, "path", cfg.store.path, err) && get(*v, "sync", cfg.store.sync, err)))
      return fail("store: ");
  }
  auto base = path.parent_path();
  if (auto v = member(doc, "cluster")) {
    auto& c = cfg.cluster;
    if (!(get(*v, "token_file", c.token_file, err)
          && get_num(*v, "heartbeat_interval_ms", c.heartbeat_interval_ms, err)
          && get_num(*v, "connection_timeout_ms", c.connection_timeout_ms, err)))
      return fail("cluster: ");
    if (auto t = member(*v, "tls")) {
      if (!(get(*t, "certificate", c.tls_certificate, err) && get(*t, "key", c.tls_key, err)
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
    if (auto s = slurp(base / schemas_dir / name))
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

std::optional<codehive_config> load_config_for(const std::string& flag, std::string& error) {
  std::filesystem::path path;
  if (!flag.empty()) {
    path = flag;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      error = "config file not found: " + flag;
      return std::nullopt;
    }
  } else if (auto p = default_config_path()) {
    path = *p;
  }
  return load_config(path, error);
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
    for (auto* ep : {&cfg.planner_model, &cfg.coder_model})
      if (ep->spec.kind == llm::api::openai && ep->api_key_env.empty()
          && std::getenv("OPENAI_API_KEY") != nullptr)
        ep->api_key_env = "OPENAI_API_KEY";
  return true;
}

}  // namespace codehive
