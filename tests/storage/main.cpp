// Test main: a GoogleTest run, or (CODEHIVE_STORE_CHILD set) one of the child
// processes the durability tests start: see store_test_util.hpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "store_test_util.hpp"

int main(int argc, char** argv) {
  if (const char* mode = std::getenv("CODEHIVE_STORE_CHILD")) {
    const char* fd = std::getenv("CODEHIVE_STORE_FD");
    return codehive::store::test::child_main(mode, fd != nullptr ? std::atoi(fd) : 1);
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
