// Parses model SPECs: ollama://host:port/model, openai://host:port/v1/model,
// openai+https://host/v1/model. Errors are errc::bad_config with the reason.
#pragma once

#include <string_view>

#include "llm/error.hpp"
#include "llm/types.hpp"

namespace codehive::llm {

result<model_spec> parse_model_spec(std::string_view spec);
std::string to_string(const model_spec& s);  ///< back to SPEC form

}  // namespace codehive::llm
