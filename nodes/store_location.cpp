#include "nodes/store_location.hpp"

#include "nodes/commands/settings_resolution.hpp"

namespace codehive {

std::optional<std::filesystem::path> resolve_store_path(const std::string& flag,
                                                        const codehive_config& cfg,
                                                        std::string& error) {
  auto user_default = store::default_store_path();
  auto dir = store_folder(flag, read_environment(), cfg.store.path,
                          user_default ? std::optional{*user_default} : std::nullopt);
  if (!dir)
    error = "no store folder: " + user_default.err().describe()
            + " (pass --store DIR or set CODEHIVE_STORE)";
  return dir;
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
