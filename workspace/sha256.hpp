// SHA-256 (FIPS 180-4) for content addressing: the run store's blobs and the
// validators' cache of findings per file version use the same hash.
#pragma once

#include <string>
#include <string_view>

namespace codehive::ws {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace codehive::ws
