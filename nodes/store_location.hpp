// Which run store a command uses, and opening it with messages a user can act
// on. Order: --store DIR, $CODEHIVE_STORE, the config's store.path, then the
// user's data directory ($XDG_DATA_HOME/codehive/store or ~/.local/share/...).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "nodes/config.hpp"
#include "storage/run_store.hpp"

namespace codehive {

/// The store folder for this invocation; nullopt (with `error`) when none can be found.
std::optional<std::filesystem::path> resolve_store_path(const std::string& flag,
                                                        const codehive_config& cfg,
                                                        std::string& error);

/// Opens the store; on failure `error` names the folder and says why (a
/// foreign folder, a damaged store, another process holding it, ...).
/// `read_only` stores take no lock (inspection beside a running coordinator).
std::unique_ptr<store::run_store> open_store(const std::filesystem::path& dir, bool read_only,
                                             bool sync, std::string& error);

}  // namespace codehive
