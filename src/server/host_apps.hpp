// Standalone's `--app HOST=DIR`: several apps in one instance, chosen by the request's Host
// (case and port ignored); any other host gets the main app (APP_DIR). Every app is a group of
// the one pool, so they share --max-pool-size. Each app's settings are the main app's with its
// own folder (its type, startup file and public/ are found there).
#pragma once

#include "common/event_loops.hpp"
#include "config/options.hpp"
#include "http/message_parser.hpp"
#include "static/static_files.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace passenger::server {

struct HostApp {
    std::shared_ptr<const config::Options> options;
    // Its public/, one per event loop: each keeps its own caches, so serving a file takes no lock.
    std::vector<std::unique_ptr<static_files::StaticFiles>> static_files_by_loop;
    const static_files::StaticFiles& static_files() const {
        return *static_files_by_loop[EventLoops::current()];
    }
};

class HostApps {
  public:
    // `main`: the main app's settings (their host_apps name the others); `loops`: the core's
    // event loops.
    explicit HostApps(std::shared_ptr<const config::Options> main, size_t loops = 1);

    // The app for a request head (the main app without a Host naming another).
    const HostApp& for_request(const http::MessageHead& head) const;
    const HostApp& main() const { return main_; }
    // The main app first, then the others by host.
    std::vector<const HostApp*> all() const;

  private:
    HostApp main_;
    std::map<std::string, HostApp, std::less<>> by_host_;
};

// "Example.COM:8080" -> "example.com", "[::1]:3000" -> "[::1]".
std::string host_name_of(std::string_view host_header);

}  // namespace passenger::server
