#include "server/http2_messages.hpp"

#include "http/response_head.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>

namespace passenger::server {
namespace {

bool is_connection_specific(std::string_view name) {
    for (std::string_view hop :
         {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"})
        if (http::iequals(name, hop)) return true;
    return false;
}

// A Sec-WebSocket-Key for the app's handshake: 16 random bytes in base64 (RFC 6455 4.1). The
// app's Sec-WebSocket-Accept is checked by nobody: h2 has none.
std::string websocket_key() {
    unsigned char bytes[16];
    RAND_bytes(bytes, sizeof bytes);
    unsigned char encoded[32];
    int length = EVP_EncodeBlock(encoded, bytes, sizeof bytes);
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(length));
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

Http1RequestHead http1_request_head(const Http2Request& request, bool end_stream) {
    Http1RequestHead result;
    std::string& head = result.text;
    const bool websocket = request.websocket();
    head = fmt::format("{} {} HTTP/1.1\r\n", websocket ? "GET" : request.method, request.path);
    if (!request.authority.empty()) head += fmt::format("Host: {}\r\n", request.authority);
    bool has_length = false;
    for (const auto& [name, value] : request.headers) {
        has_length = has_length || name == "content-length";
        head += fmt::format("{}: {}\r\n", name, value);
    }
    if (!request.cookie.empty()) head += fmt::format("cookie: {}\r\n", request.cookie);
    result.chunked = !end_stream && !has_length && !websocket;
    if (result.chunked) head += "Transfer-Encoding: chunked\r\n";
    if (websocket)
        head += fmt::format(
            "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: {}\r\n\r\n",
            websocket_key());
    else
        head += "Connection: close\r\n\r\n";
    return result;
}

Http2ResponseFields::Http2ResponseFields(const http::MessageHead& head, bool websocket) {
    const bool upgraded = websocket && head.status == 101;
    status_ = upgraded ? "200" : std::to_string(head.status);
    names_.reserve(head.headers.size());
    fields_.reserve(head.headers.size() + 1);
    static const std::string status_name = ":status";
    add(status_name, status_);
    for (const auto& [name, value] : head.headers) {
        if (is_connection_specific(name)) continue;
        if (upgraded && http::iequals(name, "sec-websocket-accept")) continue;
        names_.push_back(lowercase(name));
        add(names_.back(), value);
    }
}

void Http2ResponseFields::add(const std::string& name, const std::string& value) {
    fields_.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                       reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                       value.size(), NGHTTP2_NV_FLAG_NONE});
}

}  // namespace passenger::server
