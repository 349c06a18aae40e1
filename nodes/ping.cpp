// `codehive ping SPEC`: health check plus one chat round trip, no actors.
#include <chrono>
#include <cstdio>

#include "llm/client.hpp"
#include "llm/http_loop.hpp"
#include "llm/model_spec.hpp"
#include "nodes/commands.hpp"

namespace codehive {

int ping_command(const ping_options& opts) {
  auto spec = llm::parse_model_spec(opts.spec);
  if (!spec) {
    std::fprintf(stderr, "codehive ping: bad model SPEC '%s': %s\n", opts.spec.c_str(),
                 spec.err().message.c_str());
    return exit_code::usage;
  }
  llm::endpoint_config cfg;
  cfg.spec = *spec;
  cfg.api_key_env = opts.api_key_env.empty() && spec->kind == llm::api::openai ? "OPENAI_API_KEY"
                                                                               : opts.api_key_env;
  cfg.call_timeout = std::chrono::milliseconds{static_cast<long long>(opts.timeout_s * 1000)};
  cfg.max_retries = 1;
  llm::http_loop loop;
  auto client = llm::make_client(loop, cfg);
  std::printf("server: %s (%s)\nmodel:  %s\n", spec->base_url.c_str(),
              spec->kind == llm::api::ollama ? "ollama" : "openai", spec->model.c_str());
  auto health = llm::health_sync(*client);
  if (!health) {
    std::printf("health: FAILED: %s\n", health.err().describe().c_str());
    return exit_code::model;
  }
  if (!health->model_present) {
    std::string models;
    for (const auto& m : health->models)
      models += (models.empty() ? "" : ", ") + m;
    std::printf("health: server up, but model '%s' is not served (available: %s)\n",
                spec->model.c_str(), models.empty() ? "none" : models.c_str());
    return exit_code::model;
  }
  std::printf("health: ok\n");
  llm::chat_request req;
  req.role = "ping";
  req.messages.push_back({"user", opts.prompt});
  auto t0 = std::chrono::steady_clock::now();
  auto reply = llm::chat_sync(*client, std::move(req));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  if (!reply) {
    std::printf("chat:   FAILED after %lld ms: %s\n", static_cast<long long>(ms.count()),
                reply.err().describe().c_str());
    return exit_code::model;
  }
  auto text = reply->content;
  if (text.size() > 200)
    text = text.substr(0, 200) + "...";
  std::printf("reply:  %s\n", text.c_str());
  std::printf("tokens: %lld prompt + %lld completion\n",
              static_cast<long long>(reply->use.prompt_tokens),
              static_cast<long long>(reply->use.completion_tokens));
  std::printf("latency: %lld ms (%.1f tokens/s)\n", static_cast<long long>(ms.count()),
              reply->use.tokens_per_s);
  return exit_code::ok;
}

}  // namespace codehive
