// The check every file holding a secret gets when it is read (the cluster's
// join token, the HTTP API's bearer token): a file that its group or others
// may read is loaded, with a warning that says who can read it and how to fix it.
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <string>

namespace codehive {

/// "<what> FILE is readable by everyone (mode 0644); <risk>: chmod 600 FILE",
/// or nullopt when only the owner can read it or it cannot be inspected.
inline std::optional<std::string> secret_file_warning(const std::string& file,
                                                      const std::string& what,
                                                      const std::string& risk) {
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
    return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return what + " " + file + " is readable by "
         + ((st.st_mode & S_IRWXO) ? std::string{"everyone"} : std::string{"its group"})
         + " (mode " + mode + "); " + risk + ": chmod 600 " + file;
}

}  // namespace codehive
