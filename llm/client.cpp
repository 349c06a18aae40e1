#include "llm/client.hpp"

#include <future>

#include "llm/backend.hpp"
#include "llm/http_loop.hpp"
#include "llm/ollama_client.hpp"
#include "llm/openai_client.hpp"

namespace codehive::llm {

std::shared_ptr<client> make_client(http_loop& loop, endpoint_config cfg) {
  switch (cfg.spec.kind) {
    case api::ollama:
      return make_ollama_client(loop, std::move(cfg));
    case api::openai:
      return make_openai_client(loop, std::move(cfg));
  }
  return make_ollama_client(loop, std::move(cfg));
}

namespace {

// Blocking on the loop's own thread would wait forever.
bool on_own_loop(client& c) {
  auto* b = dynamic_cast<detail::basic_client*>(&c);
  return b != nullptr && b->loop().on_loop_thread();
}

error misuse() {
  error e;
  e.code = errc::bad_config;
  e.message = "chat_sync/health_sync called on the HTTP loop's thread (would deadlock)";
  e.attempts = 0;
  return e;
}

}  // namespace

result<chat_response> chat_sync(client& c, chat_request req) {
  if (on_own_loop(c)) return misuse();
  std::promise<result<chat_response>> p;
  auto f = p.get_future();
  c.chat(std::move(req), [&p](result<chat_response> r) { p.set_value(std::move(r)); });
  return f.get();
}

result<health_report> health_sync(client& c) {
  if (on_own_loop(c)) return misuse();
  std::promise<result<health_report>> p;
  auto f = p.get_future();
  c.health([&p](result<health_report> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace codehive::llm
