// skillctl: the command-line client of skillstore. All logic is in cli/app.cc.
#include "cli/app.h"

int main(int argc, char** argv) { return skillstore::cli::Main(argc, argv); }
