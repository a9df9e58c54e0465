#include "http/body_buffer.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
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

// A file that may not grow past `bytes` (RLIMIT_FSIZE) while it lives: writes beyond fail with
// EFBIG, as they fail with ENOSPC on a full disk, after a partial write.
class FileSizeLimit {
  public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = saved_;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

  private:
    rlimit saved_{};
};

TEST(BodyBuffer, AFailedAppendLeavesTheBufferAsItWas) {
    BodyBufferSettings settings = small_settings();
    BodyBuffer buffer(settings);
    FileSizeLimit limit(64 * 1024);
    std::string first(40 * 1024, 'a');
    ASSERT_FALSE(buffer.append(first));
    std::string too_much(40 * 1024, 'b');  // 24 KiB of it would fit: a partial write
    EXPECT_EQ(buffer.append(too_much), std::errc::file_too_large);
    EXPECT_EQ(buffer.size(), first.size());
    std::string fits(10 * 1024, 'c');
    ASSERT_FALSE(buffer.append(fits));
    EXPECT_TRUE(contents(buffer) == first + fits);
}

TEST(BodyBuffer, TakeKeepsTheBytesItCouldNotTake) {
    BodyBufferSettings settings = small_settings();
    settings.directory = "/nonexistent/passenger-test";
    BodyBuffer buffer(settings);
    ASSERT_FALSE(buffer.append("1234"));
    std::string data = "56789";
    EXPECT_TRUE(buffer.take(data));
    EXPECT_EQ(data, "56789");
    EXPECT_EQ(contents(buffer), "1234");
}

}  // namespace
}  // namespace passenger::http
