// Structured answers: find the JSON object in a model's reply (bare, wrapped in
// prose, inside a ``` fence, with trailing commentary) and validate it against
// the JSON Schema that was requested. Pure functions, no I/O.
#pragma once

#include <string>
#include <string_view>

#include "llm/error.hpp"

namespace codehive::llm {

/// Returns the text of the first complete top-level JSON object (or array when
/// no object is present) in `reply` that parses. Prefers a ```json fenced block
/// when one parses. Error: errc::bad_json with a reason a model can act on.
result<std::string> extract_json(std::string_view reply);

/// Validates JSON text against a JSON Schema (draft-04 subset that RapidJSON's
/// schema.h supports). Error: errc::bad_json if `json` does not parse,
/// errc::schema_mismatch with the failing keyword and JSON pointer otherwise,
/// errc::bad_config if the schema itself does not parse.
status validate_json(std::string_view json, std::string_view schema);

/// extract_json + validate_json; returns the extracted JSON text.
result<std::string> extract_and_validate(std::string_view reply, std::string_view schema);

}  // namespace codehive::llm
