// The workflow loader: published service standards from TOML files into a WorkflowSet.
//
// Every `*.toml` file of a folder is one workflow (workflows/README.md documents the format).
// Loading validates everything — syntax, types, durations, zones, working hours, unknown keys
// (typos never pass silently), references between sections, routing collisions between files —
// and the first problem found is returned as Error::invalid whose detail names the file, the line
// and the key: `workflows/fca-disp.toml:14: clocks.final_response.target: expected an ISO 8601
// duration like "P8W"`. The error's single FieldError carries the key path and the message.
// Stateless free functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/workflow.h"

namespace redress {

// Reads every *.toml file in `directory`, in file-name order. Fails when the folder cannot be
// read, holds no workflow file, a file is invalid, two workflows share a name, the number of
// workflows marked `default = true` is not exactly one, or two workflows route the same category
// on a shared channel (categories not routed anywhere go to the default).
[[nodiscard]] Result<WorkflowSet> load_workflows(const std::string& directory);

// Parses one workflow from TOML text; `source_name` prefixes every error message.
[[nodiscard]] Result<Workflow> parse_workflow(std::string_view toml_text, std::string_view source_name);

}  // namespace redress
