// OpenAI-compatible backend: POST {base}/chat/completions[?query] (plain or
// SSE streaming; response_format json_schema, stepping down to json_object
// and prompt only when the server refuses it, see backend.hpp), GET
// {base}/models as the health check, the key from the environment variable
// the endpoint config names (Bearer; `api-key` for Azure).
#pragma once

#include <memory>

#include "llm/client.hpp"

namespace codehive::llm {

std::shared_ptr<client> make_openai_client(http_loop& loop, endpoint_config cfg);

}  // namespace codehive::llm
