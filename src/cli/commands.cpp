#include "cli/commands.hpp"

#include <fmt/format.h>

#include <string_view>

namespace passenger::cli {

int dispatch(int argc, char** argv) {
    if (argc >= 2 && std::string_view(argv[1]) == "--version") {
        fmt::print("Phusion Passenger-compatible server {}\n", PASSENGER_VERSION);
        return 0;
    }
    fmt::print(stderr, "usage: passenger start|stop|--version\n");
    return 1;
}

}  // namespace passenger::cli
