#include "nodes/commands/startup.hpp"

#include "nodes/commands.hpp"
#include "nodes/commands/usage.hpp"
#include "nodes/run_session.hpp"
#include "nodes/store_location.hpp"
#include "storage/run_store.hpp"

namespace codehive {

stop_code start_node(const char* command, const std::string& config_flag,
                     const cluster_flags& cluster, const std::string& address,
                     const char* address_flag, bool allow_zero, node_start& out) {
  std::string err;
  auto loaded = load_config_for(config_flag, err);
  if (!loaded)
    return usage_error(command, err);
  out.cfg = std::move(*loaded);
  auto setup = load_cluster_setup(cluster, out.cfg, err);
  if (!setup)
    return usage_error(command, err);
  out.token = std::move(setup->token);
  out.tls = setup->tls;
  auto parsed = parse_host_port(address, "127.0.0.1", allow_zero, err);
  if (!parsed)
    return usage_error(command, std::string{address_flag} + ": " + err);
  out.address = *parsed;
  return std::nullopt;
}

stop_code start_serving_node(const char* command, bool verbose, const std::string& config_flag,
                             const cluster_flags& cluster, const std::string& address,
                             const char* address_flag, bool allow_zero, node_start& out) {
  block_stop_signals();
  setup_node_logging(verbose);
  return start_node(command, config_flag, cluster, address, address_flag, allow_zero, out);
}

stop_code prepare_models(const char* command, codehive_config& cfg, const node_models& models) {
  std::string err;
  if (!apply_model_flags(cfg, models.planner, models.coder, true, err))
    return usage_error(command, err);
  if (!preflight_models(cfg, models.planner_here, models.coders_here, models.coders, err))
    return command_error(command, err, exit_code::model);
  tune_config(cfg, models.coders, models.fixers);
  return std::nullopt;
}

stop_code check_http(const http_flags& flags, const char* command, run_services& svc) {
  std::string err;
  if (!flags.listen.empty() && !(svc.http_cfg = check_http_flags(flags, err)))
    return usage_error(command, err);
  return std::nullopt;
}

stop_code open_services(const std::string& store_flag, const codehive_config& cfg,
                        const char* command, run_services& svc) {
  std::string err;
  auto store_dir = resolve_store_path(store_flag, cfg, err);
  if (!store_dir)
    return usage_error(command, err);
  svc.store_dir = *store_dir;
  svc.runs = open_store(svc.store_dir, false, cfg.store.sync, err);
  if (!svc.runs)
    return usage_error(command, err);
  if (svc.http_cfg && !start_announced(svc.http, svc.runs, *svc.http_cfg, err))
    return usage_error(command, "--http: " + err);
  return std::nullopt;
}

}  // namespace codehive
