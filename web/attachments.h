// Files on messages, for the API and the pages: taking the files of a multipart/form-data request
// into the BlobStore within the configured limits, and serving one back as a download.
//
// Files are put into the BlobStore before the message that names them is submitted (a stored key
// always names a blob); a message refused afterwards leaves its blobs unreferenced, which is
// harmless (content-addressed, deduplicated). A download is always an attachment, never rendered
// from this origin: Content-Disposition attachment (RFC 6266, the name as filename*), nosniff and
// a sandboxing Content-Security-Policy. Who may download what is the caller's check. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"
#include "ports/blob_store.h"
#include "web/http.h"
#include "web/multipart.h"
#include "web/router.h"
#include "web/settings.h"

namespace redress::web {

// Checks `files` against `limits` (count, each file, the total) and puts each into `blobs`.
// kInvalid on the field "files" naming the limit and the file when over one (nothing is put then),
// or when `blobs` is null; kUnavailable when the store cannot take them.
[[nodiscard]] Result<std::vector<AttachmentRef>> store_files(BlobStore* blobs, const AttachmentLimits& limits,
                                                             const std::vector<UploadedFile>& files);

// For a route that takes JSON or multipart/form-data: when the request is multipart, its text
// fields become ctx.body (strings; `integers` as numbers when they are) and its files are stored
// (store_files). No files for a JSON request.
[[nodiscard]] Result<std::vector<AttachmentRef>> take_form_files(BlobStore* blobs, const AttachmentLimits& limits,
                                                                 RequestContext& ctx,
                                                                 const std::vector<std::string>& integers = {});

// The file as a download (200), with the headers above.
[[nodiscard]] Response attachment_download(const AttachmentRef& file, std::string bytes);
// RFC 6266: `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`.
[[nodiscard]] std::string content_disposition(const std::string& filename);

// "3 files, 1.2 MB"-style size text: "512 bytes", "34 KB", "1.2 MB".
[[nodiscard]] std::string size_text(std::int64_t bytes);

}  // namespace redress::web
