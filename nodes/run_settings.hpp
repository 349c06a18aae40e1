// `codehive resume RUN` continues with the settings the run had
// (actors/run_config.hpp); options given on the resume command line win
// over the stored ones.
#pragma once

#include <string>

#include "actors/run_config.hpp"
#include "nodes/commands.hpp"

namespace codehive {

/// Fills the options the user did not give from the stored settings
/// (request and folder always come from the store).
void apply_stored_settings(const run_settings& stored, const std::string& request,
                           run_options& o);

}  // namespace codehive
