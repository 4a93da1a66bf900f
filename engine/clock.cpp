#include "engine/clock.h"

namespace redress {

Time SystemClock::now() const { return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()); }

}  // namespace redress
