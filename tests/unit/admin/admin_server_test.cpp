#include "admin/admin_server.hpp"

#include "admin/admin_client.hpp"
#include "fake_backend.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <asio/post.hpp>

#include <filesystem>
#include <thread>

namespace passenger::admin {
namespace {

using namespace std::chrono_literals;

// An AdminServer on its own event loop thread, on a socket in a fresh folder.
class AdminServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/admin_server_XXXXXX";
        folder_ = ::mkdtemp(pattern);
        socket_path_ = folder_ + "/admin.sock";
        backend_.owner = ::geteuid();
        ASSERT_EQ(server_.listen(socket_path_), "");
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        asio::post(io_, [this] { server_.stop(); });
        thread_.join();
        std::filesystem::remove_all(folder_);
    }

    AdminReply call(std::string_view method, std::string_view target, std::string_view body = {}) {
        auto reply = call_admin(socket_path_, method, target, body, 5s);
        if (auto* error = std::get_if<std::string>(&reply)) {
            ADD_FAILURE() << *error;
            return {};
        }
        return std::get<AdminReply>(reply);
    }

    // Sends raw bytes and returns everything the server answers until it closes.
    // Sends `bytes`, then (with `half_close`) ends the request stream, and reads until the server
    // closes.
    std::string raw_exchange(std::string_view bytes, bool half_close = false) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path_.c_str());
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        if (half_close) ::shutdown(fd, SHUT_WR);
        std::string out;
        char buffer[4096];
        for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) out.append(buffer, n);
        ::close(fd);
        return out;
    }

    std::string folder_, socket_path_;
    asio::io_context io_{1};
    testing::FakeBackend backend_;
    AdminServer server_{io_, backend_};
    std::thread thread_;
};

TEST_F(AdminServerTest, SocketIsPrivateToItsUser) {
    struct stat info {};
    ASSERT_EQ(::stat(socket_path_.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(AdminServerTest, AnswersJsonToTheClient) {
    AdminReply reply = call("GET", "/pool");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.content_type, "application/json");
    EXPECT_EQ(nlohmann::json::parse(reply.body)["version"], "9.9.9");
}

TEST_F(AdminServerTest, PostsABody) {
    AdminReply reply = call("POST", "/pool/restart_app", R"({"app_root": "/srv/app"})");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(nlohmann::json::parse(reply.body)["restarted"][0], "/srv/app");
}

TEST_F(AdminServerTest, GarbageGetsAJsonErrorAndTheServerLivesOn) {
    std::string answer = raw_exchange("\x01\x02 garbage\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
    EXPECT_NE(answer.find("Content-Type: application/json"), std::string::npos);
    EXPECT_NE(answer.find("\"error\": \"malformed HTTP request"), std::string::npos);
    EXPECT_EQ(call("GET", "/").status, 200);
}

TEST_F(AdminServerTest, OversizedBodyIs413) {
    std::string answer = raw_exchange(
        "POST /pool/restart_app HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 ")) << answer;
}

TEST_F(AdminServerTest, KeepsTheConnectionForSeveralRequests) {
    std::string answer = raw_exchange(
        "GET /instance HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(answer.find("\"name\": \"fake\""), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"requests\""), std::string::npos) << answer;
}

TEST_F(AdminServerTest, HalfARequestThenCloseIsHarmless) {
    // The client closes mid-head: the server closes too, at once rather than at its timeout.
    EXPECT_EQ(raw_exchange("GET /pool HTTP/1.1\r\nHo", true), "");
    EXPECT_EQ(call("GET", "/").status, 200);
}

TEST(AdminClient, NoSocketSaysTheServerDoesNotAnswer) {
    auto reply = call_admin("/tmp/definitely-not-here/admin.sock", "GET", "/pool", {}, 1s);
    ASSERT_TRUE(std::holds_alternative<std::string>(reply));
    EXPECT_NE(std::get<std::string>(reply).find("does not answer"), std::string::npos);
}

TEST(AdminClient, ASilentServerTimesOut) {
    char pattern[] = "/tmp/admin_client_XXXXXX";
    std::string folder = ::mkdtemp(pattern);
    std::string path = folder + "/silent.sock";
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(fd, 4), 0);  // connections complete in the backlog; nobody answers

    auto started = std::chrono::steady_clock::now();
    auto reply = call_admin(path, "GET", "/pool", {}, 300ms);
    auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(std::holds_alternative<std::string>(reply));
    EXPECT_NE(std::get<std::string>(reply).find("no answer on " + path + " within 0.3 s"),
              std::string::npos)
        << std::get<std::string>(reply);
    EXPECT_LT(elapsed, 3s);
    ::close(fd);
    std::filesystem::remove_all(folder);
}

TEST(AdminServer, StopRemovesTheSocketFile) {
    char pattern[] = "/tmp/admin_server_XXXXXX";
    std::string folder = ::mkdtemp(pattern);
    asio::io_context io;
    testing::FakeBackend backend;
    AdminServer server(io, backend);
    ASSERT_EQ(server.listen(folder + "/admin.sock"), "");
    EXPECT_TRUE(std::filesystem::exists(folder + "/admin.sock"));
    server.stop();
    io.run();
    EXPECT_FALSE(std::filesystem::exists(folder + "/admin.sock"));
    std::filesystem::remove_all(folder);
}

TEST(AdminServer, ATooLongPathIsReported) {
    asio::io_context io;
    testing::FakeBackend backend;
    AdminServer server(io, backend);
    std::string error = server.listen("/tmp/" + std::string(200, 'x') + "/admin.sock");
    EXPECT_NE(error.find("too long for a Unix socket"), std::string::npos) << error;
}

}  // namespace
}  // namespace passenger::admin
