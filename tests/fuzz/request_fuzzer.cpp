// libFuzzer entry point for tests/fuzz/request_check.hpp (`make fuzz-test`).
#include "request_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    passenger::fuzz::check_request_bytes(data, size);
    return 0;
}
