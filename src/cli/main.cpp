// Entry point of the multi-call binary: `passenger ...`, and passenger-status,
// passenger-memory-stats and passenger-config through symlinks (chosen by argv[0]).
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    return passenger::cli::dispatch(argc, argv);
}
