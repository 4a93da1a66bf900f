#include <sys/stat.h>

#include <exception>
#include <iostream>

#include "app/cli.h"
#include "app/private_files.h"

int main(int argc, char** argv) {
  // Everything Redress writes holds personal data or credentials: the owner's only (private_files.h).
  ::umask(redress::kPrivateUmask);
  try {
    return redress::run_cli(argc, argv);
  } catch (const std::exception& e) {
    // Only start-up failures and bugs arrive here; expected failures are values.
    std::cerr << "redress: fatal: " << e.what() << "\n";
    return redress::kExitFailure;
  }
}
