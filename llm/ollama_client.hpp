// Ollama backend: POST {base}/api/chat (plain or NDJSON streaming, `format`
// carrying the JSON schema, `options` with num_ctx), GET {base}/api/tags as
// the health check.
#pragma once

#include <memory>

#include "llm/client.hpp"

namespace codehive::llm {

std::shared_ptr<client> make_ollama_client(http_loop& loop, endpoint_config cfg);

}  // namespace codehive::llm
