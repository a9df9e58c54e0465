#include "pool/sticky_id.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <random>

namespace passenger::pool {

std::string new_sticky_id() {
    // Processes are made on the main loop only; one generator seeded once from the OS is enough.
    static std::mt19937_64 generator{[] {
        std::random_device device;
        return (uint64_t(device()) << 32) ^ device();
    }()};
    return fmt::format("{:016x}", generator());
}

}  // namespace passenger::pool
