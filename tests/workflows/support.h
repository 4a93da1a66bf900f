// Shared support for the workflow tests: the shipped workflows (workflows/*.toml), loaded once.
// Header-only, like the other folders' support headers.
#pragma once

#include <catch2/catch.hpp>

#include <utility>

#include "engine/workflow.h"
#include "workflows/loader.h"

namespace redress::workflowtest {

// The workflows of the source tree's workflows/ folder; FAILs the test when they do not load.
inline const WorkflowSet& shipped() {
  static const WorkflowSet set = [] {
    auto loaded = load_workflows(REDRESS_SOURCE_DIR "/workflows");
    if (!loaded) FAIL(loaded.error().detail);
    return std::move(loaded).value();
  }();
  return set;
}

}  // namespace redress::workflowtest
