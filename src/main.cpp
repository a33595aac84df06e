#include "cli/cli.hpp"

int main(int argc, char** argv) { return vmeval::cli::run(argc, argv); }
