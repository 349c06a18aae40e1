// Internal to the codec: RapidJSON parsing of a record (every double read back
// exactly as written, a number that cannot be written back refused, the "v"
// header checked) and the error for a malformed record.
#pragma once

#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "storage/result.hpp"

namespace codehive::store::codec::detail {

using writer_t = rapidjson::Writer<rapidjson::StringBuffer>;

void write_str(writer_t& w, std::string_view s);

/// errc::corrupt: "record <where> is malformed: <what>".
error bad(std::string_view where, std::string_view what);

/// `json` parsed, with its "v" header checked against schema_version.
result<rapidjson::Document> parse(std::string_view json, std::string_view where);

}  // namespace codehive::store::codec::detail
