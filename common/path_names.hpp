// The parts of a path inside the output folder ("web/js/app.js"): its last
// component and the folder above it. Plain string work, no file system; '/'
// is the only separator (paths in plans and stores are normalised to it).
#pragma once

#include <string_view>

namespace codehive {

/// The last component of `path` ("" for a path that ends in '/').
inline std::string_view name_of(std::string_view path) {
  auto k = path.rfind('/');
  return k == std::string_view::npos ? path : path.substr(k + 1);
}

/// Everything before the last '/' ("" for a top-level path).
inline std::string_view folder_of(std::string_view path) {
  auto k = path.rfind('/');
  return k == std::string_view::npos ? std::string_view{} : path.substr(0, k);
}

}  // namespace codehive
