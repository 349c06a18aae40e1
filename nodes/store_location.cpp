#include "nodes/store_location.hpp"

#include <cstdlib>

namespace codehive {

std::optional<std::filesystem::path> resolve_store_path(const std::string& flag,
                                                        const codehive_config& cfg,
                                                        std::string& error) {
  if (!flag.empty())
    return std::filesystem::path{flag};
  if (const char* env = std::getenv("CODEHIVE_STORE"); env != nullptr && *env != '\0')
    return std::filesystem::path{env};
  if (!cfg.store.path.empty())
    return std::filesystem::path{cfg.store.path};
  auto def = store::default_store_path();
  if (!def) {
    error = "no store folder: " + def.err().describe()
            + " (pass --store DIR or set CODEHIVE_STORE)";
    return std::nullopt;
  }
  return *def;
}

std::unique_ptr<store::run_store> open_store(const std::filesystem::path& dir, bool read_only,
                                             bool sync, std::string& error) {
  store::store_options opts;
  opts.read_only = read_only;
  opts.create_if_missing = !read_only;
  opts.sync = sync;
  auto st = store::run_store::open(dir, opts);
  if (!st) {
    error = st.err().describe();
    if (st.err().code == store::errc::in_use)
      error += " (a run store serves one codehive process at a time: wait for that one, or give "
               "this run its own store with --store DIR)";
    return nullptr;
  }
  return std::move(*st);
}

}  // namespace codehive
