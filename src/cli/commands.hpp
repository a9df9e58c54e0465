#pragma once

namespace passenger::cli {

// Picks the command from argv[0] and argv[1] and runs it; returns the process exit code.
int dispatch(int argc, char** argv);

}  // namespace passenger::cli
