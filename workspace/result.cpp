#include "workspace/result.hpp"

namespace codehive::ws {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::bad_path: return "bad_path";
    case errc::outside_root: return "outside_root";
    case errc::symlink: return "symlink";
    case errc::not_found: return "not_found";
    case errc::not_regular_file: return "not_regular_file";
    case errc::empty_content: return "empty_content";
    case errc::too_large: return "too_large";
    case errc::bad_content: return "bad_content";
    case errc::io_error: return "io_error";
    case errc::bad_edit: return "bad_edit";
    case errc::no_section: return "no_section";
    case errc::search_not_found: return "search_not_found";
    case errc::search_ambiguous: return "search_ambiguous";
    case errc::spawn_failed: return "spawn_failed";
  }
  return "unknown";
}

}  // namespace codehive::ws
