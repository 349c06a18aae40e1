// `codehive ping SPEC`: health check plus one round trip per role, no actors.
// Each round trip has exactly the shape a run sends for that role (the
// config's prompts and schema as response_format/format, the run's num_ctx,
// think, keep_alive, temperature), so a server that refuses something a run
// would send is found here, and the profile each role ends with is printed.
#include <chrono>
#include <cstdio>

#include "actors/prompts.hpp"
#include "actors/settings.hpp"
#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "llm/preflight.hpp"
#include "llm/profile.hpp"
#include "nodes/commands.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/config.hpp"

namespace codehive {

namespace {

std::string describe_profile(const llm::endpoint_config& cfg, const llm::profile_report& p) {
  std::string out = std::string{"structured="} + llm::to_string(p.structured);
  out += std::string{" temperature="} + (p.temperature ? "sent" : "not sent");
  if (cfg.spec.kind == llm::api::openai)
    out += std::string{" reply_cap="}
           + (p.max_tokens_dropped ? "not sent" : p.max_completion_tokens ? "max_completion_tokens" : "max_tokens");
  else {
    out += std::string{" think="} + (p.think ? "false (sent)" : "not sent");
    out += " keep_alive=" + (p.keep_alive.empty() ? std::string{"not sent"} : p.keep_alive);
    out += " num_ctx=" + std::to_string(p.context_tokens);
  }
  return out;
}

// One round trip of `role` with the run's request shape; prints its line.
bool ping_role(llm::http_loop& loop, const llm::endpoint_config& ep, const char* role,
               llm::chat_request req) {
  auto client = llm::make_client(loop, ep);
  auto t0 = std::chrono::steady_clock::now();
  auto reply = llm::chat_sync(*client, std::move(req));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  auto profile = client->profile();
  for (const auto& line : profile.learned)
    std::printf("%-8s learned: %s\n", role, line.c_str());
  std::printf("%-8s profile: %s\n", role, describe_profile(ep, profile).c_str());
  if (!reply) {
    std::printf("%-8s FAILED after %lld ms: %s\n", role, static_cast<long long>(ms.count()),
                reply.err().describe().c_str());
    return false;
  }
  auto text = reply->content;
  if (text.size() > 200)
    text = text.substr(0, 200) + "...";
  std::printf("%-8s reply:  %s\n", role, text.c_str());
  std::printf("%-8s tokens: %lld prompt + %lld completion\n", role,
              static_cast<long long>(reply->use.prompt_tokens),
              static_cast<long long>(reply->use.completion_tokens));
  std::printf("%-8s latency: %lld ms (%.1f tokens/s)\n", role, static_cast<long long>(ms.count()),
              reply->use.tokens_per_s);
  return true;
}

}  // namespace

int ping_command(const ping_options& opts) {
  auto spec = llm::parse_model_spec(opts.spec);
  if (!spec)
    return usage_error("ping", "bad model SPEC '" + opts.spec + "': " + spec.err().message);
  // The run's settings: the default config ($CODEHIVE_CONFIG or the shipped
  // one), with this SPEC serving every role, as `run --planner S --coder S`.
  std::string err;
  auto loaded = load_config_for(opts.config, err);
  if (!loaded)
    return usage_error("ping", err);
  auto cfg = std::move(*loaded);
  cfg.planner_model.spec = *spec;
  cfg.coder_model.spec = *spec;
  if (!opts.api_key_env.empty()) {
    cfg.planner_model.api_key_env = cfg.coder_model.api_key_env = opts.api_key_env;
  } else {
    apply_default_key(cfg);
    cfg.coder_model.api_key_env = cfg.planner_model.api_key_env;  // one server: one key
  }
  llm::share_model_settings({&cfg.planner_model, &cfg.coder_model});
  for (auto* ep : {&cfg.planner_model, &cfg.coder_model}) {
    ep->call_timeout = std::chrono::milliseconds{static_cast<long long>(opts.timeout_s * 1000)};
    ep->max_retries = 1;
  }

  llm::http_loop loop;
  std::printf("server: %s (%s)\nmodel:  %s\n", spec->base_url.c_str(),
              spec->kind == llm::api::ollama ? "ollama" : "openai", spec->model.c_str());
  // Preflight: reachable, the model served, its window and the server's
  // parallelism, from the server itself.
  auto pre = llm::preflight_sync(loop, cfg.planner_model);
  if (!pre) {
    std::printf("health: FAILED: %s\n", pre.err().describe().c_str());
    return exit_code::model;
  }
  std::printf("health: ok\n");
  if (pre->context_window > 0)
    std::printf("window: %d tokens (the server's figure)\n", pre->context_window);
  if (pre->loaded_context > 0)
    std::printf("loaded: num_ctx %d\n", pre->loaded_context);
  if (pre->thinking)
    std::printf("thinking: %s\n", *pre->thinking ? "the model thinks (think: false is sent)" : "no");
  for (const auto& note : pre->notes)
    std::printf("note:   %s\n", note.c_str());
  if (!pre->parallel_note.empty())
    std::printf("note:   %s\n", pre->parallel_note.c_str());
  // The window is not fitted here: the round trips below keep the num_ctx a
  // run sends, so what the server does with it shows now.

  std::string request = "A connection check: " + opts.prompt;
  auto plan = plan_prompt(cfg.pipeline, request, {}, "");
  msg::code_request code;
  code.request = request;
  code.task.id = "t1";
  code.task.action = msg::task_action::create;
  code.task.type = "file";
  code.task.path = "index.html";
  code.task.description = "the page";
  code.task.instructions = "Write a minimal HTML page that says pong.";
  auto edit = code_prompt(cfg.pipeline, code);
  bool ok = ping_role(loop, cfg.planner_model, "planner", std::move(plan));
  ok = ping_role(loop, cfg.coder_model, "coder", std::move(edit)) && ok;
  return ok ? exit_code::ok : exit_code::model;
}

}  // namespace codehive
