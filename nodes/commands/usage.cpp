#include "nodes/commands/usage.hpp"

#include <cstdio>

#include "nodes/commands.hpp"

namespace codehive {

int command_error(const char* command, const std::string& text, int code) {
  std::fprintf(stderr, "codehive %s: %s\n", command, text.c_str());
  return code;
}

int usage_error(const char* command, const std::string& text) {
  return command_error(command, text, exit_code::usage);
}

}  // namespace codehive
