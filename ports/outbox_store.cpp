#include "ports/outbox_store.h"

namespace redress {

std::string_view to_string(OutboxState state) {
  switch (state) {
    case OutboxState::kPending: return "pending";
    case OutboxState::kDelivered: return "delivered";
    case OutboxState::kDead: return "dead";
  }
  return "pending";
}

}  // namespace redress
