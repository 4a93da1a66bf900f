#include <iostream>

#include "app/cli.h"

namespace redress {

int command_serve(const Arguments&) {
  std::cerr << "redress: serve: the HTTP server arrives with the API issue\n";
  return kExitFailure;
}

}  // namespace redress
