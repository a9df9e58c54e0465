// Storage (strings, vectors) that a thread keeps between its users: a connection that goes idle
// gives its buffers back here instead of to malloc, and the next request on the same event loop
// takes them again, so a request allocates none while idle connections still hold none. At most
// `max_spares` per type and thread, each of at most `max_bytes` (a large response's buffer goes
// back to malloc): more would only keep the memory of a past burst.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace passenger {

template <typename Storage, size_t max_spares = 16, size_t max_bytes = 16 * 1024>
class ThreadSpares {
  public:
    // A spare (empty, with its capacity), or an empty one without storage.
    static Storage take() {
        auto& spares = list();
        if (spares.empty()) return Storage();
        Storage storage = std::move(spares.back());
        spares.pop_back();
        return storage;
    }

    // Keeps `storage`'s capacity for take(), emptied; `storage` holds none afterwards.
    static void give_back(Storage& storage) {
        auto& spares = list();
        const size_t capacity = storage.capacity();
        // (An empty std::string has capacity without storage of its own.)
        if (capacity > Storage().capacity() &&
            capacity * sizeof(typename Storage::value_type) <= max_bytes &&
            spares.size() < max_spares) {
            storage.clear();
            spares.push_back(std::move(storage));
        }
        Storage().swap(storage);
    }

    // Frees this thread's spares.
    static void release_all() { std::vector<Storage>().swap(list()); }

  private:
    static std::vector<Storage>& list() {
        thread_local std::vector<Storage> spares;
        return spares;
    }
};

}  // namespace passenger
