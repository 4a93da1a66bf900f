#include <exception>
#include <iostream>

#include "app/cli.h"

int main(int argc, char** argv) {
  try {
    return redress::run_cli(argc, argv);
  } catch (const std::exception& e) {
    // Only start-up failures and bugs arrive here; expected failures are values.
    std::cerr << "redress: fatal: " << e.what() << "\n";
    return redress::kExitFailure;
  }
}
