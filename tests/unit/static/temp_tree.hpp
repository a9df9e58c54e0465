// A throwaway directory tree for static-file tests: created under $TMPDIR, removed afterwards.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <stdlib.h>

namespace passenger::static_files::testing {

class TempTree {
  public:
    TempTree() {
        std::string pattern = (std::filesystem::temp_directory_path() / "static-test-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        root_ = pattern;
    }
    ~TempTree() {
        std::error_code ignored;
        std::filesystem::remove_all(root_, ignored);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path path(std::string_view relative) const { return root_ / relative; }

    void write(std::string_view relative, std::string_view content) const {
        std::filesystem::path file = path(relative);
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    void mkdir(std::string_view relative) const {
        std::filesystem::create_directories(path(relative));
    }
    // Creates `relative` as a symlink whose content is exactly `target`.
    void symlink(std::string_view target, std::string_view relative) const {
        std::filesystem::create_symlink(std::filesystem::path(target), path(relative));
    }

  private:
    std::filesystem::path root_;
};

}  // namespace passenger::static_files::testing
