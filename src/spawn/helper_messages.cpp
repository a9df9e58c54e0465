#include "spawn/helper_messages.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace passenger::spawn {
namespace {

constexpr size_t kMaxFds = 4;

}  // namespace

std::string send_helper_message(int socket, const nlohmann::json& body,
                                const std::vector<int>& fds) {
    std::string text = body.dump();
    if (text.size() > kMaxHelperMessage || fds.size() > kMaxFds)
        return fmt::format("message to or from the spawn helper too large ({} bytes)", text.size());
    iovec data{text.data(), text.size()};
    msghdr header{};
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    if (!fds.empty()) {
        header.msg_control = control;
        header.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* entry = CMSG_FIRSTHDR(&header);
        entry->cmsg_level = SOL_SOCKET;
        entry->cmsg_type = SCM_RIGHTS;
        entry->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(entry), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t sent;
    do sent = ::sendmsg(socket, &header, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0) return fmt::format("cannot reach the spawn helper: {}", std::strerror(errno));
    return {};
}

ReceiveStatus receive_helper_message(int socket, HelperMessage& message, int flags) {
    std::string text(kMaxHelperMessage, '\0');
    iovec data{text.data(), text.size()};
    msghdr header{};
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    ssize_t length;
    do length = ::recvmsg(socket, &header, flags | MSG_CMSG_CLOEXEC);
    while (length < 0 && errno == EINTR);
    if (length < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? ReceiveStatus::would_block
                                                       : ReceiveStatus::error;
    if (length == 0) return ReceiveStatus::closed;
    message.fds.clear();
    for (cmsghdr* entry = CMSG_FIRSTHDR(&header); entry != nullptr;
         entry = CMSG_NXTHDR(&header, entry)) {
        if (entry->cmsg_level != SOL_SOCKET || entry->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (entry->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(entry) + i * sizeof(int), sizeof fd);
            message.fds.emplace_back(fd);
        }
    }
    if ((header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return ReceiveStatus::error;
    text.resize(static_cast<size_t>(length));
    message.body = nlohmann::json::parse(text, nullptr, false);
    if (message.body.is_discarded() || !message.body.is_object()) return ReceiveStatus::error;
    return ReceiveStatus::message;
}

}  // namespace passenger::spawn
