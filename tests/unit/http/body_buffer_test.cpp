#include "http/body_buffer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

namespace passenger::http {
namespace {

std::string read_file_part(const BodyBuffer& buffer) {
    std::string out(buffer.file_size(), '\0');
    ssize_t n =
        ::pread(buffer.file_fd(), out.data(), out.size(), static_cast<off_t>(buffer.file_offset()));
    EXPECT_EQ(n, static_cast<ssize_t>(out.size()));
    return out;
}

std::string contents(const BodyBuffer& buffer) {
    std::string out = buffer.memory();
    if (buffer.file_size() > 0) out += read_file_part(buffer);
    return out;
}

BodyBufferSettings small_settings() {
    BodyBufferSettings settings;
    const char* tmp = std::getenv("TMPDIR");
    settings.directory = tmp ? tmp : "/tmp";
    settings.memory_limit = 8;
    return settings;
}

TEST(BodyBuffer, SmallBodiesStayInMemory) {
    BodyBufferSettings settings = small_settings();
    BodyBuffer buffer(settings);
    EXPECT_TRUE(buffer.empty());
    EXPECT_FALSE(buffer.append("abc"));
    EXPECT_FALSE(buffer.append("defgh"));
    EXPECT_EQ(buffer.size(), 8u);
    EXPECT_FALSE(buffer.spilled());
    EXPECT_EQ(buffer.memory(), "abcdefgh");
}

TEST(BodyBuffer, SpillsToAFileInOrder) {
    BodyBufferSettings settings = small_settings();
    BodyBuffer buffer(settings);
    EXPECT_FALSE(buffer.append("abcdef"));
    EXPECT_FALSE(buffer.append("ghijkl"));  // would exceed 8: goes to the file
    EXPECT_FALSE(buffer.append("m"));       // the file has bytes: so must this
    EXPECT_TRUE(buffer.spilled());
    EXPECT_EQ(buffer.memory(), "abcdef");
    EXPECT_EQ(buffer.file_size(), 7u);
    EXPECT_EQ(contents(buffer), "abcdefghijklm");
    EXPECT_EQ(buffer.size(), 13u);
}

TEST(BodyBuffer, WorksAsAFifo) {
    BodyBufferSettings settings = small_settings();
    BodyBuffer buffer(settings);
    EXPECT_FALSE(buffer.append("abcdef"));
    EXPECT_FALSE(buffer.append("ghijkl"));
    std::string taken = "old";
    buffer.take_memory(taken);
    EXPECT_EQ(taken, "abcdef");
    EXPECT_EQ(buffer.memory(), "");
    EXPECT_FALSE(buffer.append("mn"));  // behind the file bytes
    EXPECT_EQ(read_file_part(buffer), "ghijklmn");
    buffer.consume_file(3);
    EXPECT_EQ(read_file_part(buffer), "jklmn");
    buffer.consume_file(5);
    EXPECT_TRUE(buffer.empty());
    EXPECT_FALSE(buffer.append("op"));  // drained: memory again
    EXPECT_EQ(buffer.memory(), "op");
    EXPECT_EQ(buffer.file_size(), 0u);
}

TEST(BodyBuffer, ClearClosesTheFileAndReleasesBigMemory) {
    BodyBufferSettings settings = small_settings();
    settings.memory_limit = 1 << 20;
    BodyBuffer buffer(settings);
    EXPECT_FALSE(buffer.append(std::string(1 << 20, 'x')));
    EXPECT_FALSE(buffer.append("y"));
    EXPECT_TRUE(buffer.spilled());
    buffer.clear();
    EXPECT_TRUE(buffer.empty());
    EXPECT_FALSE(buffer.spilled());
    EXPECT_LE(buffer.memory().capacity(), 16u * 1024);
}

TEST(BodyBuffer, ReportsAnUnusableDirectory) {
    BodyBufferSettings settings = small_settings();
    settings.directory = "/nonexistent/passenger-test";
    BodyBuffer buffer(settings);
    EXPECT_FALSE(buffer.append("12345678"));
    EXPECT_TRUE(buffer.append("9"));
}

}  // namespace
}  // namespace passenger::http
