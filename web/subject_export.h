// Subject access: everything Redress holds about one client, found by their email address, as one
// tar archive (web/tar_writer.h) — what a data-protection subject access request asks for.
//
// The archive holds README.txt (the layout, in words), subject.json (each case as staff see it:
// the case, its commitments and redress, its messages, internal ones included, its whole history,
// the records of the email it received and the notifications sent about it) and, per case
// (cases/<reference>/): the files on its messages, the raw email it received and each mail and web
// hook payload sent about it, as sent. Staff review it before it goes to the client.
//
// Reads only, through the ports: safe beside a running server, from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/result.h"
#include "engine/time.h"
#include "engine/workflow.h"
#include "ports/blob_store.h"
#include "ports/case_reader.h"
#include "ports/inbound_mail_store.h"
#include "ports/outbox_store.h"

namespace redress::web {

struct SubjectSources {
  CaseReader& cases;
  OutboxStore& outbox;
  BlobStore& blobs;
  InboundMailStore& inbound;
  const WorkflowSet& workflows;
};

struct SubjectArchive {
  std::string bytes;  // the tar archive
  std::int64_t cases = 0;
  std::int64_t files = 0;  // members of the archive besides README.txt and subject.json
};

// Called after each case: (cases done, cases found).
using SubjectProgress = std::function<void(std::int64_t done, std::int64_t total)>;

// The archive for the client whose address is `email` (compared without regard to case). No case
// is an archive that says so, not an error: "nothing held" is an answer too. kInvalid for an
// empty or malformed address.
[[nodiscard]] Result<SubjectArchive> export_subject(const SubjectSources& sources, const std::string& email,
                                                    Time now, const SubjectProgress& progress = {});

}  // namespace redress::web
