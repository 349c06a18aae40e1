// How a command reports what stops it before it starts: one line
// "codehive COMMAND: TEXT" on stderr, and the exit code (2, bad usage or
// config, for usage_error). Every command prints its refusals through here, so
// they read alike.
#pragma once

#include <string>

namespace codehive {

/// Prints "codehive COMMAND: TEXT" on stderr; returns `code`.
int command_error(const char* command, const std::string& text, int code);

/// command_error with exit_code::usage.
int usage_error(const char* command, const std::string& text);

}  // namespace codehive
