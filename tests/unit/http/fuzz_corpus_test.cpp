// Replays the fuzzer's seed corpus and past crashes (tests/fuzz/corpus) through the same checks,
// so they run with every unit test build, sanitizers included, without clang.
#include "../../fuzz/request_check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace passenger::http {
namespace {

TEST(FuzzCorpus, EveryInputPassesTheChecks) {
    std::filesystem::path corpus =
        std::filesystem::path(PASSENGER_SOURCE_ROOT) / "tests/fuzz/corpus";
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
        std::ifstream file(entry.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        SCOPED_TRACE(entry.path().filename().string());
        fuzz::check_request_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ++count;
    }
    EXPECT_GE(count, 20u);
}

}  // namespace
}  // namespace passenger::http
