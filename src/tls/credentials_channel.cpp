#include "tls/credentials_channel.hpp"

#include "common/file_descriptor.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace passenger::tls {
namespace {

constexpr size_t max_handover_size = 4 * 1024 * 1024;
// A refused reload's reason (one log line naming the option and the file) is cut to this.
constexpr size_t max_reason_size = 2048;
constexpr char credentials_tag = 'c';
constexpr char refused_tag = 'r';

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        data.remove_prefix(static_cast<size_t>(written));
    }
    return true;
}

// A tag byte with room for one descriptor beside it (credentials), or for a reason after it (a
// refused reload): a handover on the wire.
struct HandoverMessage {
    HandoverMessage() {
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
    }
    HandoverMessage(const HandoverMessage&) = delete;
    HandoverMessage& operator=(const HandoverMessage&) = delete;

    char text[1 + max_reason_size] = {credentials_tag};
    iovec data{text, sizeof text};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
};

}  // namespace

// The memfd holds "<certificate length>\n<certificate PEM><key PEM>".
std::string send_credentials(int socket_fd, const Credentials& credentials) {
    FileDescriptor memory(::memfd_create("passenger-tls", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memory.valid()) return fmt::format("memfd_create: {}", std::strerror(errno));
    std::string header = fmt::format("{}\n", credentials.certificate_pem.size());
    if (!write_all(memory.get(), header) || !write_all(memory.get(), credentials.certificate_pem) ||
        !write_all(memory.get(), credentials.key_pem))
        return fmt::format("writing the memfd: {}", std::strerror(errno));
    ::fcntl(memory.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);

    HandoverMessage handover;
    handover.data.iov_len = 1;
    cmsghdr* header_entry = CMSG_FIRSTHDR(&handover.message);
    header_entry->cmsg_level = SOL_SOCKET;
    header_entry->cmsg_type = SCM_RIGHTS;
    header_entry->cmsg_len = CMSG_LEN(sizeof(int));
    int fd = memory.get();
    std::memcpy(CMSG_DATA(header_entry), &fd, sizeof fd);
    ssize_t sent;
    do sent = ::sendmsg(socket_fd, &handover.message, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != 1) return fmt::format("sending to the core: {}", std::strerror(errno));
    return {};
}

std::string send_refused_reload(int socket_fd, std::string_view reason) {
    HandoverMessage refusal;
    reason = reason.substr(0, max_reason_size);
    refusal.text[0] = refused_tag;
    std::memcpy(refusal.text + 1, reason.data(), reason.size());
    refusal.data.iov_len = 1 + reason.size();
    refusal.message.msg_control = nullptr;
    refusal.message.msg_controllen = 0;
    ssize_t sent;
    do sent = ::sendmsg(socket_fd, &refusal.message, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != static_cast<ssize_t>(refusal.data.iov_len))
        return fmt::format("sending to the core: {}", std::strerror(errno));
    return {};
}

std::variant<Credentials, RefusedReload, ChannelEnd, std::string> receive_credentials(
    int socket_fd) {
    HandoverMessage handover;
    ssize_t received;
    do received = ::recvmsg(socket_fd, &handover.message, MSG_CMSG_CLOEXEC);
    while (received < 0 && errno == EINTR);
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ChannelEnd::nothing_yet;
    if (received <= 0) return ChannelEnd::closed;
    if (handover.text[0] == refused_tag && handover.message.msg_controllen == 0)
        return RefusedReload{std::string(handover.text + 1, static_cast<size_t>(received) - 1)};
    cmsghdr* entry = CMSG_FIRSTHDR(&handover.message);
    if (entry == nullptr || entry->cmsg_type != SCM_RIGHTS ||
        entry->cmsg_len != CMSG_LEN(sizeof(int)))
        return std::string("a handover without its memfd");
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(entry), sizeof fd);
    FileDescriptor memory(fd);

    struct stat info {};
    if (::fstat(memory.get(), &info) != 0 || info.st_size <= 0 ||
        static_cast<size_t>(info.st_size) > max_handover_size)
        return std::string("a handover of an unexpected size");
    std::string text(static_cast<size_t>(info.st_size), '\0');
    ssize_t length = ::pread(memory.get(), text.data(), text.size(), 0);
    if (length != info.st_size) return std::string("a handover that cannot be read");
    size_t newline = text.find('\n');
    size_t certificate_length = 0;
    if (newline == std::string::npos ||
        std::from_chars(text.data(), text.data() + newline, certificate_length).ec != std::errc() ||
        certificate_length > text.size() - newline - 1)
        return std::string("a garbled handover");
    Credentials credentials;
    credentials.certificate_pem = text.substr(newline + 1, certificate_length);
    credentials.key_pem = text.substr(newline + 1 + certificate_length);
    // The key leaves no copy behind in this buffer.
    OPENSSL_cleanse(text.data(), text.size());
    return credentials;
}

}  // namespace passenger::tls
