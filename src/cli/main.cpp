// Entry point of the multi-call binary: `passenger ...` (and later passenger-status & co.,
// chosen by argv[0]).
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    return passenger::cli::dispatch(argc, argv);
}
