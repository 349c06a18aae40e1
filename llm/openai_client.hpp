// OpenAI-compatible backend: POST {base}/chat/completions (plain or SSE
// streaming; response_format json_schema with a one-time json_object fallback
// remembered per client), GET {base}/models as the health check, Bearer key
// from the environment variable the endpoint config names.
#pragma once

#include <memory>

#include "llm/client.hpp"

namespace codehive::llm {

std::shared_ptr<client> make_openai_client(http_loop& loop, endpoint_config cfg);

}  // namespace codehive::llm
