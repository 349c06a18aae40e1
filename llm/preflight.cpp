#include "llm/preflight.hpp"

#include <algorithm>
#include <cstdlib>
#include <future>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "llm/profile.hpp"

namespace codehive::llm {

namespace {

// One blocking GET/POST; a non-2xx or transport failure is nullopt.
std::optional<rapidjson::Document> fetch_json(http_loop& loop, const endpoint_config& cfg, const std::string& method,
                                              const std::string& url, const std::string& body = {}) {
  http_request h;
  h.method = method;
  h.url = url;
  h.body = body;
  h.connect_timeout = cfg.connect_timeout;
  h.timeout = std::min(cfg.call_timeout, std::chrono::milliseconds{10000});
  h.max_body_bytes = cfg.max_reply_bytes;
  h.endpoint = cfg.spec.base_url;
  h.max_in_flight = std::max(1, cfg.max_in_flight);
  h.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) h.headers.emplace_back("Content-Type", "application/json");
  if (!cfg.api_key_env.empty() && key_may_travel(cfg))
    // Read at use from the variable the config names: no settings struct holds the key.
    if (const char* key = std::getenv(cfg.api_key_env.c_str()); key != nullptr && *key != '\0')
      h.headers.emplace_back("Authorization", std::string("Bearer ") + key);
  std::promise<http_result> p;
  auto f = p.get_future();
  loop.submit(std::move(h), [&p](http_result r) { p.set_value(std::move(r)); });
  auto r = f.get();
  if (!r || r->status < 200 || r->status > 299) return std::nullopt;
  rapidjson::Document d;
  d.Parse(r->body.data(), r->body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  return d;
}

int int_member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return 0;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsNumber()) return 0;
  return static_cast<int>(it->value.GetDouble());
}

bool same_model(const std::string& listed, const std::string& want) {
  auto norm = [](const std::string& m) { return m.find(':') == std::string::npos ? m + ":latest" : m; };
  return norm(listed) == norm(want);
}

void ollama_details(http_loop& loop, const endpoint_config& cfg, preflight_report& out) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("model");
  w.String(cfg.spec.model.c_str());
  w.EndObject();
  if (auto show = fetch_json(loop, cfg, "POST", cfg.spec.base_url + "/api/show", b.GetString())) {
    auto info = show->FindMember("model_info");
    if (info != show->MemberEnd() && info->value.IsObject())
      for (auto it = info->value.MemberBegin(); it != info->value.MemberEnd(); ++it) {
        std::string key = it->name.GetString();
        if (key.size() > 15 && key.ends_with(".context_length") && it->value.IsNumber())
          out.context_window = static_cast<int>(it->value.GetDouble());
      }
    auto caps = show->FindMember("capabilities");
    if (caps != show->MemberEnd() && caps->value.IsArray()) {
      bool thinking = false;
      for (const auto& c : caps->value.GetArray())
        if (c.IsString() && std::string(c.GetString()) == "thinking") thinking = true;
      out.thinking = thinking;
    }
  }
  if (auto ps = fetch_json(loop, cfg, "GET", cfg.spec.base_url + "/api/ps")) {
    auto models = ps->FindMember("models");
    if (models != ps->MemberEnd() && models->value.IsArray())
      for (const auto& m : models->value.GetArray()) {
        auto name = m.FindMember("name");
        if (name != m.MemberEnd() && name->value.IsString() && same_model(name->value.GetString(), cfg.spec.model))
          out.loaded_context = int_member(m, "context_length");
      }
  }
  if (out.loaded_context > 0 && out.loaded_context != cfg.context_tokens)
    out.notes.push_back("ollama has " + cfg.spec.model + " loaded with num_ctx " + std::to_string(out.loaded_context) +
                        "; the run asks for " + std::to_string(cfg.context_tokens) +
                        ", so its first call reloads the model once");
  out.parallel_note = "ollama runs OLLAMA_NUM_PARALLEL requests per model at once (the rest queue); for N coders "
                      "start the server with OLLAMA_NUM_PARALLEL=N";
}

void openai_details(http_loop& loop, const endpoint_config& cfg, preflight_report& out) {
  if (cfg.spec.model_in_path) return;  // Azure deployments: nothing more to ask
  if (auto models = fetch_json(loop, cfg, "GET", cfg.spec.base_url + "/models" +
                                                    (cfg.spec.query.empty() ? "" : "?" + cfg.spec.query))) {
    auto data = models->FindMember("data");
    if (data != models->MemberEnd() && data->value.IsArray())
      for (const auto& m : data->value.GetArray()) {
        auto id = m.FindMember("id");
        if (id != m.MemberEnd() && id->value.IsString() && std::string(id->value.GetString()) == cfg.spec.model)
          out.context_window = int_member(m, "max_model_len");  // vLLM
      }
  }
  // llama.cpp server: /props beside /v1 (not asked of hosted APIs).
  std::string root = cfg.spec.base_url;
  if (root.ends_with("/v1")) root.resize(root.size() - 3);
  if (out.context_window == 0 && !is_https_url(root)) {
    if (auto props = fetch_json(loop, cfg, "GET", root + "/props")) {
      auto gen = props->FindMember("default_generation_settings");
      if (gen != props->MemberEnd()) {
        int n_ctx = int_member(gen->value, "n_ctx");
        if (n_ctx > 0) out.context_window = n_ctx;
      }
      out.parallel = int_member(*props, "total_slots");
      if (out.parallel > 0)
        out.notes.push_back("llama.cpp server has " + std::to_string(out.parallel) +
                            " slots (requests at once; each gets n_ctx / slots of context); start it with "
                            "--parallel N for N coders");
    }
  }
}

}  // namespace

result<preflight_report> preflight_sync(http_loop& loop, const endpoint_config& cfg) {
  if (loop.on_loop_thread()) {
    error e;
    e.code = errc::bad_config;
    e.message = "preflight_sync called on the HTTP loop's thread (would deadlock)";
    return e;
  }
  auto client = make_client(loop, cfg);
  auto health = health_sync(*client);
  if (!health) return health.err();
  preflight_report out;
  out.model_present = health->model_present;
  if (cfg.spec.kind == api::ollama)
    ollama_details(loop, cfg, out);
  else
    openai_details(loop, cfg, out);
  if (out.context_window > 0 && cfg.context_tokens > out.context_window)
    out.notes.push_back("context_tokens " + std::to_string(cfg.context_tokens) + " is larger than the window " +
                        std::to_string(out.context_window) + " the server reports for " + cfg.spec.model);
  return out;
}

std::string fit_context(endpoint_config& cfg, const preflight_report& r) {
  if (r.context_window <= 0 || cfg.context_tokens <= r.context_window) return {};
  auto note = "context_tokens for " + cfg.spec.model + " lowered from " + std::to_string(cfg.context_tokens) +
              " to the server's window " + std::to_string(r.context_window);
  cfg.context_tokens = r.context_window;
  return note;
}

}  // namespace codehive::llm
