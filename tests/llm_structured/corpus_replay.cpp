// Replays the committed libFuzzer corpus through the fuzz target with the
// regular (g++) build, so every CI run re-checks the fuzzer's invariants on
// the inputs it once found interesting. The target aborts on a violated
// invariant, which fails this test.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerInitialize(int*, char***);
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(CODEHIVE_SOURCE_DIR) / "fuzz/corpus/extract_json";
  LLVMFuzzerInitialize(nullptr, nullptr);
  int replayed = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++replayed;
  }
  std::printf("replayed %d corpus inputs from %s\n", replayed, dir.c_str());
  // An empty corpus would make this test pass without checking anything.
  return replayed >= 10 ? 0 : 1;
}
