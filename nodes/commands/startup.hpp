// The steps every command's start-up shares, in the order the commands take
// them: the config and the cluster's token for a node (`coordinator`,
// `worker`, `run --coordinator`, `export --coordinator`), and the run store
// with this process's HTTP API for the commands that run runs (`run`,
// `resume`, `coordinator`). Each step prints why it stops the command.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "nodes/cluster.hpp"
#include "nodes/config.hpp"
#include "nodes/http/api_server.hpp"

namespace codehive {

namespace store {
class run_store;
}

/// What ends a command before it runs: the exit code (its message printed).
using stop_code = std::optional<int>;

/// A node's start: its config, the cluster's token and TLS, and the address
/// it listens on or connects to.
struct node_start {
  codehive_config cfg;
  std::string token;
  bool tls = false;
  host_port address;
};

/// The config (--config), the cluster setup (--token-file, --tls-*, ...) and
/// `address` given as `address_flag` ("--listen", "--join", ...; HOST
/// defaults to 127.0.0.1, PORT 0 only with `allow_zero`).
stop_code start_node(const char* command, const std::string& config_flag,
                     const cluster_flags& cluster, const std::string& address,
                     const char* address_flag, bool allow_zero, node_start& out);

/// The start of a node that serves until a signal stops it (`coordinator`,
/// `worker`): the stop signals blocked for the thread that waits for them,
/// the node's logging set up (`verbose`), then start_node.
stop_code start_serving_node(const char* command, bool verbose, const std::string& config_flag,
                             const cluster_flags& cluster, const std::string& address,
                             const char* address_flag, bool allow_zero, node_start& out);

/// The models a node runs: --planner and --coder (std::nullopt: the config's),
/// whether the planner's and the coders' models are used here, and how many
/// local coders and fixers.
struct node_models {
  std::optional<std::string> planner;
  std::optional<std::string> coder;
  bool planner_here = false;
  bool coders_here = false;
  int coders = 0;
  int fixers = 0;
};

/// --planner and --coder applied to `cfg`, each model's server asked before
/// any call (exit_code::model when one cannot serve), and `cfg` tuned for the
/// coders and fixers.
stop_code prepare_models(const char* command, codehive_config& cfg, const node_models& models);

/// The run store and this process's HTTP API.
struct run_services {
  std::filesystem::path store_dir;
  std::shared_ptr<store::run_store> runs;
  std::optional<http_config> http_cfg;  ///< --http, checked (check_http)
  /// Reads the store from threads of its own; stopped (declared after
  /// `runs`) before the store closes.
  std::optional<api_server> http;
};

/// --http and its token, checked (nothing listens yet).
stop_code check_http(const http_flags& flags, const char* command, run_services& svc);

/// Opens the run store (--store, ...: store_location.hpp) for writing, then
/// serves the HTTP API where --http was given.
stop_code open_services(const std::string& store_flag, const codehive_config& cfg,
                        const char* command, run_services& svc);

}  // namespace codehive
