// Small writing helpers shared by the front end and the proxy.
#pragma once

#include <fmt/format.h>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <iterator>
#include <string>
#include <string_view>

namespace passenger::http {

// Writes all of `data`; false on any error (the caller closes the connection).
template <typename Stream>
asio::awaitable<bool> write_all(Stream& stream, std::string_view data) {
    asio::error_code error;
    co_await asio::async_write(stream, asio::buffer(data.data(), data.size()),
                               asio::redirect_error(asio::use_awaitable, error));
    co_return !error;
}

// Appends `data` as one chunk of a chunked body (nothing for empty data: that would end it).
inline void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    fmt::format_to(std::back_inserter(out), "{:x}\r\n", data.size());
    out.append(data);
    out.append("\r\n");
}

}  // namespace passenger::http
