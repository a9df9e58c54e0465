#include "proxy/message_heads.hpp"

#include "http/request_sanitizer.hpp"
#include "http/response_head.hpp"

#include <array>
#include <cstring>
#include <string>

namespace passenger::proxy {
namespace {

// The first token of a comma-separated list (trimmed), taken off `rest`.
std::string_view next_token(std::string_view& rest) {
    size_t comma = rest.find(',');
    std::string_view token = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    return token;
}

// Whether the Connection header's value (a comma-separated token list) names `name`.
bool connection_names(std::string_view connection, std::string_view name) {
    for (std::string_view rest = connection; !rest.empty();) {
        if (http::iequals(next_token(rest), name)) return true;
    }
    return false;
}

// The fixed hop-by-hop names, told apart by length first: one or two comparisons per header.
bool is_always_hop_by_hop(std::string_view name) {
    switch (name.size()) {
        case 2:
            return http::iequals(name, "te");
        case 7:
            return http::iequals(name, "trailer") || http::iequals(name, "upgrade");
        case 10:
            return http::iequals(name, "connection") || http::iequals(name, "keep-alive");
        case 14:
            return http::iequals(name, "content-length");
        case 16:
            return http::iequals(name, "proxy-connection");
        case 17:
            return http::iequals(name, "transfer-encoding");
        case 18:
            return http::iequals(name, "proxy-authenticate");
        default:
            return false;
    }
}

// One resize and three copies, not four appends: the head's storage was reserved already.
void append_header(std::string& out, std::string_view name, std::string_view value) {
    const size_t at = out.size();
    out.resize(at + name.size() + value.size() + 4);
    char* p = out.data() + at;
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, value.data(), value.size());
    p += value.size();
    *p++ = '\r';
    *p = '\n';
}

// The tokens of a head's Connection header, split once per head rather than once per header.
class ConnectionTokens {
  public:
    explicit ConnectionTokens(std::string_view connection) {
        std::string_view rest = connection;
        while (!rest.empty() && count_ < tokens_.size()) {
            std::string_view token = next_token(rest);
            if (!token.empty()) tokens_[count_++] = token;
        }
        unsplit_ = rest;  // a long list: the rest is scanned per name
    }

    bool names(std::string_view name) const {
        for (size_t i = 0; i < count_; ++i) {
            if (http::iequals(tokens_[i], name)) return true;
        }
        return !unsplit_.empty() && connection_names(unsplit_, name);
    }

  private:
    std::array<std::string_view, 8> tokens_;
    size_t count_ = 0;
    std::string_view unsplit_;
};

bool is_hop_by_hop(std::string_view name, const ConnectionTokens& connection) {
    return is_always_hop_by_hop(name) || connection.names(name);
}

bool response_has_no_body(const http::MessageHead& response, const http::MessageHead& request) {
    return request.method == "HEAD" || (response.status >= 100 && response.status < 200) ||
           response.status == 204 || response.status == 304;
}

}  // namespace

std::string_view connection_header(const http::MessageHead& head) {
    const std::string* connection = head.find("connection");
    return connection ? std::string_view(*connection) : std::string_view();
}

bool is_hop_by_hop(std::string_view name, std::string_view connection) {
    return is_always_hop_by_hop(name) ||
           (!connection.empty() && connection_names(connection, name));
}

std::string app_request_head(const http::MessageHead& request, std::string_view peer_address,
                             uint64_t body_length, ClientOrigin origin) {
    std::string out;
    write_app_request_head(out, request, peer_address, body_length, origin);
    return out;
}

void write_app_request_head(std::string& out, const http::MessageHead& request,
                            std::string_view peer_address, uint64_t body_length,
                            ClientOrigin origin) {
    size_t header_bytes = 0;
    for (const auto& [name, value] : request.headers) header_bytes += name.size() + value.size();
    out.clear();
    out.reserve(256 + request.target.size() + header_bytes + request.headers.size() * 4 +
                peer_address.size());
    out.append(request.method);
    out.push_back(' ');
    out.append(request.target);
    out.append(" HTTP/1.1\r\n");
    const std::string* host = nullptr;
    std::string forwarded_for;  // a trusted peer's chain, its lines joined
    bool has_proto = false, has_forwarded_host = false;
    const ConnectionTokens connection(connection_header(request));
    for (const auto& [name, value] : request.headers) {
        if (is_hop_by_hop(name, connection) || http::iequals(name, "expect")) continue;
        if (http::is_untrusted_request_header(name)) {
            if (!origin.trusted_peer || name.find('_') != std::string::npos) continue;
            if (http::iequals(name, "x-forwarded-for")) {
                if (!forwarded_for.empty()) forwarded_for.append(", ");
                forwarded_for.append(value);
                continue;
            }
            has_proto = has_proto || http::iequals(name, "x-forwarded-proto");
            has_forwarded_host = has_forwarded_host || http::iequals(name, "x-forwarded-host");
        }
        if (host == nullptr && http::iequals(name, "host")) host = &value;
        append_header(out, name, value);
    }
    if (forwarded_for.empty()) {
        append_header(out, "X-Forwarded-For", peer_address);
    } else {
        append_header(out, "X-Forwarded-For", forwarded_for + ", " + std::string(peer_address));
    }
    if (!has_proto) append_header(out, "X-Forwarded-Proto", origin.https ? "https" : "http");
    if (host == nullptr) {
        // HTTP/1.1, which the app is spoken to in, requires Host (Node answers 400 without it);
        // an HTTP/1.0 client may omit it, and with no authority to name RFC 9112 says: empty.
        out.append("Host: \r\n");
    } else if (!has_forwarded_host) {
        append_header(out, "X-Forwarded-Host", *host);
    }
    if (body_length > 0 || request.has_body() || request.content_length)
        append_header(out, "Content-Length", std::to_string(body_length));
    // An upgrade (WebSocket) keeps asking for the protocol switch; anything else asks the app to
    // keep the connection for the next request.
    const std::string* upgrade = request.upgrade ? request.find("upgrade") : nullptr;
    if (upgrade != nullptr) {
        append_header(out, "Upgrade", *upgrade);
        out.append("Connection: Upgrade\r\n\r\n");
    } else {
        out.append("Connection: keep-alive\r\n\r\n");
    }
}

ClientResponsePlan client_response_plan(const http::MessageHead& response,
                                        const http::MessageHead& request, bool client_keep_alive) {
    std::string head;
    ClientResponsePlan plan = client_response_plan(response, request, client_keep_alive, head);
    plan.head = std::move(head);
    return plan;
}

ClientResponsePlan client_response_plan(const http::MessageHead& response,
                                        const http::MessageHead& request, bool client_keep_alive,
                                        std::string& out) {
    ClientResponsePlan plan;
    plan.keep_alive = client_keep_alive;
    bool client_is_http11 = request.http_major == 1 && request.http_minor >= 1;

    size_t header_bytes = 0;
    for (const auto& [name, value] : response.headers) header_bytes += name.size() + value.size();
    out.clear();
    out.reserve(256 + header_bytes + response.headers.size() * 4);
    out.append("HTTP/1.1 ");
    out.append(std::to_string(response.status));
    out.push_back(' ');
    out.append(http::reason_phrase(response.status));
    out.append("\r\n");
    const ConnectionTokens connection(connection_header(response));
    for (const auto& [name, value] : response.headers) {
        if (!is_hop_by_hop(name, connection)) append_header(out, name, value);
    }
    if (response_has_no_body(response, request)) {
        plan.framing = BodyFraming::none;
        // A HEAD response keeps the length the body would have had.
        if (response.content_length && request.method == "HEAD")
            append_header(out, "Content-Length", std::to_string(*response.content_length));
    } else if (response.content_length) {
        plan.framing = BodyFraming::content_length;
        append_header(out, "Content-Length", std::to_string(*response.content_length));
    } else if (client_is_http11) {
        plan.framing = BodyFraming::chunked;
        append_header(out, "Transfer-Encoding", "chunked");
    } else {
        plan.framing = BodyFraming::until_close;
        plan.keep_alive = false;
    }
    if (!plan.keep_alive) {
        out.append("Connection: close\r\n");
    } else if (!client_is_http11) {
        out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
    return plan;
}

}  // namespace passenger::proxy
