// configs/ of the source tree as the suites that run codehive as a process use it: the
// demo's files (configs/demo/: the request, the scenario, the app a demo run must write
// byte for byte) and configs written to a temp folder that point back at the tree.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace codehive::test {

/// The source tree this build came from.
const std::filesystem::path& source_dir();
/// configs/demo/.
const std::filesystem::path& demo_dir();
/// configs/demo/app/: the expected output of a demo run.
const std::filesystem::path& demo_app_dir();

/// `s` without trailing newlines, carriage returns and spaces.
std::string trim_end(std::string s);

/// configs/demo/request.txt, trimmed at its end.
std::string demo_request();

/// Relative paths of every file under `root`, "/"-separated, sorted; none when `root`
/// does not exist.
std::vector<std::string> files_under(const std::filesystem::path& root);

/// The files of configs/demo/app/ (read once); throws when there are none.
const std::vector<std::string>& demo_app_files();

/// How `out` differs from configs/demo/app/, one "  missing: …", "  differs: …" or
/// "  unexpected file: …" line each; "" when it holds exactly the app (generated_files/
/// and hidden entries aside: exports and a run store may sit beside it).
std::string demo_output_differences(const std::filesystem::path& out);

/// Writes `dir`/codehive.json: configs/codehive.json with the browser validator off and
/// absolute prompt and schema folders (the copy lives in a temp folder). Its path.
/// Throws when the shipped config does not parse.
std::filesystem::path write_demo_config(const std::filesystem::path& dir);

/// A config of its own: the browser validator off, absolute prompt and schema folders
/// and `extra_keys` (",\"git\":{...}"), every other setting its default.
std::string plain_config_json(const std::string& extra_keys = "");

/// Writes plain_config_json(extra_keys) to `dir`/codehive.json; its path, for argv.
std::string write_plain_config(const std::filesystem::path& dir,
                               const std::string& extra_keys = "");

}  // namespace codehive::test
