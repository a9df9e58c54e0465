// --metrics-address: GET /metrics over plain HTTP on its own TCP listener (never the app's port),
// for Prometheus. One request per connection, read with the front end's parser; a connection
// gets 10 s and at most 16 KiB of head; at most 32 at once. Served by the core's event loop.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>

namespace passenger::admin {

class MetricsListener {
  public:
    // `render` gives the metrics text when a scrape comes.
    MetricsListener(asio::io_context& io, std::function<std::string()> render);
    MetricsListener(const MetricsListener&) = delete;
    MetricsListener& operator=(const MetricsListener&) = delete;

    // Binds HOST:PORT ([v6]:PORT) and starts accepting; returns why it cannot, or "".
    std::string listen(const std::string& host, int port);
    void stop();

  private:
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(std::shared_ptr<asio::ip::tcp::socket> socket);

    asio::io_context& io_;
    std::function<std::string()> render_;
    asio::ip::tcp::acceptor acceptor_;
    size_t connections_ = 0;
    bool stopped_ = true;
};

}  // namespace passenger::admin
