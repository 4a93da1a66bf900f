// What the writer of a reply added: its text with the quoted history and the signature folded away.
//
// Recognised (in English, and the common German, French, Spanish, Dutch and Italian forms):
//   - an attribution line followed by "> " quoted lines (Gmail, Apple Mail, Thunderbird:
//     "On Tue, 3 Mar 2026 at 10:02, Complaints <c@example.com> wrote:", possibly wrapped over three
//     lines; "Complaints wrote:"; "Am … schrieb …:"): the attribution and every ">" line go, and
//     text written between or after quotes (inline and bottom-posted replies) stays;
//   - Outlook's history, which is not prefixed: "-----Original Message-----", or a header block
//     "From: … / Sent: (or Date:) … / To: … / Subject: …", optionally under a line of underscores:
//     everything from there on goes;
//   - a signature after the "-- " separator (or a bare "--" line), and the mobile signatures
//     ("Sent from my iPhone", "Get Outlook for Android", "Von meinem iPhone gesendet", …) when
//     nothing but blank lines follows them.
// A line is never judged by words in the middle of a sentence, only by whole-line shapes.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace redress::inbound {

// `text` with "\n" or "\r\n" line ends; the result has "\n" line ends and no leading or trailing
// blank lines. When folding would leave nothing (a forward without a word of its own), the whole
// text is returned, trimmed: the reader is shown too much rather than nothing.
[[nodiscard]] std::string new_text_of(std::string_view text);

}  // namespace redress::inbound
