// Replays a committed libFuzzer corpus (seeds, or crash reproducers) through a
// fuzz target with the regular (g++) build, so every CI run re-checks the
// target's invariants on every input it keeps. The target aborts on a
// violated invariant, which fails the test.
//
//   fuzz_replay_<target> DIR MIN_FILES
//
// MIN_FILES guards against a corpus that went missing or empty: a replay of
// nothing would pass without checking anything. Crash-reproducer folders pass
// 0 (they are empty while nothing is known to crash).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DIR MIN_FILES\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  const int min_files = std::atoi(argv[2]);
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.' &&
          entry.path().filename() != "README.md")
        files.push_back(entry.path());
  std::sort(files.begin(), files.end());  // a failure names the same file on every run
  for (const auto& f : files) {
    std::printf("replaying %s\n", f.c_str());
    std::fflush(stdout);  // the file's name is shown even if the target aborts
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu inputs from %s\n", files.size(), dir.c_str());
  if (static_cast<int>(files.size()) < min_files) {
    std::fprintf(stderr, "expected at least %d inputs in %s\n", min_files, dir.c_str());
    return 1;
  }
  return 0;
}
