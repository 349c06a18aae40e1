// Internal: JSON encoding of the store's records (RapidJSON). Every record is
// an object with "v" (record version); decoders refuse a newer "v" with
// errc::newer_schema and a malformed record with errc::corrupt, naming `where`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/records.hpp"
#include "storage/result.hpp"

namespace codehive::store::codec {

/// Contents of meta/"schema" and of the CODEHIVE_STORE marker file.
struct meta_record {
  int schema_version = 0;
  std::string store_id;
  std::int64_t created_ms = 0;
  std::string created_by;  ///< "codehive 0.1.0"
};

/// `s` as a JSON string literal, quotes included.
std::string quote(std::string_view s);

/// True when `text` is one well-formed JSON value.
bool is_json(std::string_view text);
/// True when `text` is a JSON object.
bool is_json_object(std::string_view text);

std::string encode(const meta_record& m);
result<meta_record> decode_meta(std::string_view json, std::string_view where);

std::string encode(const run_record& r);
result<run_record> decode_run(std::string_view json, std::string_view where);

std::string encode(const task_record& t);
result<task_record> decode_task(std::string_view json, std::string_view where);

std::string encode(const file_version& f);
result<file_version> decode_file_version(std::string_view json, std::string_view where);

std::string encode(const review_round& r);
result<review_round> decode_review(std::string_view json, std::string_view where);

std::string encode(const ledger_entry& e);
result<ledger_entry> decode_ledger(std::string_view json, std::string_view where);

std::string encode(const event& e);
result<event> decode_event(std::string_view json, std::string_view where);

/// files/"s\0<hash>": the summarizer's line for one content, shared by runs.
std::string encode_summary(std::string_view summary, std::int64_t at_ms);
result<std::string> decode_summary(std::string_view json, std::string_view where);

}  // namespace codehive::store::codec
