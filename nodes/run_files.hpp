// The coordinator's side of "results where the user is": where a run
// submitted with copy_to_client works on the coordinator's machine, and the
// answer to a client's fetch_files, read from the run store alone (so any
// stored run can be fetched, running or finished, after a restart too).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "messages/messages.hpp"

namespace codehive {

namespace store {
class run_store;
}
struct retry_policy;

/// The coordinator's own folder for a client's output folder: one per client
/// machine and folder, under `root` (coordinator --workspaces), named
/// "<last part of the folder>-<12 hex digits of its identity>". The same
/// client folder always maps to the same one, so an unfinished run is
/// continued and a follow-up request sees the project its runs made.
std::filesystem::path client_workspace(const std::filesystem::path& root,
                                       const std::string& client_host,
                                       const std::string& client_out);

/// Contents in one fetch answer, at the most: a client asks for 64 files at a
/// time, and binary files may be 8 MiB each (project.max_binary_bytes), so an
/// answer without a cap could reach half a gigabyte in one CAF message. The
/// first file of an answer always comes, whatever its size, so every answer
/// makes progress.
inline constexpr std::size_t fetch_answer_bytes = std::size_t{16} << 20;

/// The run's current files (deletions included; contents when asked), and
/// its exports when no paths were named. ok=false with the reason when the
/// run is unknown or the store fails. With contents, the answer stops before
/// the file that would take its contents past `max_content_bytes`: the files
/// asked for and not answered are for the client to ask again.
msg::fetched_files fetch_run_files(const store::run_store& runs, const retry_policy& policy,
                                   const msg::fetch_files& req,
                                   std::size_t max_content_bytes = fetch_answer_bytes);

}  // namespace codehive
