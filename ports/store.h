// Store: one whole storage backend — every port of ports/ and the engine's CaseStore, on one
// database.
//
// A backend (adapters/sqlite's SqliteStore; later a PostgreSQL store) implements this, so that one
// object answers every role on one database and one transaction discipline. Consumers do not take
// a Store: each takes the narrowest port it needs (the engine a CaseStore, a delivery worker an
// OutboxStore, the digest a ReportStore...), which says what it touches, lets a test hand it a
// small fake, and keeps a second backend from having to change them. Only the composition root
// (app/environment.h) holds a Store, and hands out its ports.
//
// Thread-safe, as every port it joins: any thread may call any of them.
#pragma once

#include "engine/store.h"
#include "ports/blob_store.h"
#include "ports/canned_replies.h"
#include "ports/case_reader.h"
#include "ports/case_search.h"
#include "ports/client_links.h"
#include "ports/inbound_mail_store.h"
#include "ports/mailbox_state.h"
#include "ports/outbox_store.h"
#include "ports/personal_data_store.h"
#include "ports/report_store.h"
#include "ports/saved_views.h"
#include "ports/session_store.h"
#include "ports/staff_directory.h"

namespace redress {

class Store : public CaseStore,
              public CaseReader,
              public CaseSearch,
              public ClientLinks,
              public StaffDirectory,
              public SessionStore,
              public OutboxStore,
              public ReportStore,
              public InboundMailStore,
              public MailboxStateStore,
              public SavedViewStore,
              public BlobStore,
              public CannedReplyStore,
              public PersonalDataStore {
 public:
  ~Store() override = default;
};

}  // namespace redress
