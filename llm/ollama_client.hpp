// Ollama backend: POST {base}/api/chat (plain or NDJSON streaming, `format`
// carrying the JSON schema, "json" or nothing after refusals, `think: false`,
// `keep_alive`, `options` with the one num_ctx of the model), GET
// {base}/api/tags as the health check; message.thinking kept apart.
#pragma once

#include <memory>

#include "llm/client.hpp"

namespace codehive::llm {

std::shared_ptr<client> make_ollama_client(http_loop& loop, endpoint_config cfg);

}  // namespace codehive::llm
