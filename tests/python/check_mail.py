#!/usr/bin/python3
"""Checks captured mail with Python's email package in strict mode; prints what it read as JSON.

Usage: check_mail.py FILE.eml...  Prints one JSON array, one object per file: the decoded
subject, from, to, message-id, in-reply-to, references, date, the plain and HTML parts, the
extra headers, the attachments (filename, content type, bytes as base64). Exits 1 (with the reason on stderr) when a file has any defect: a parse defect,
a header defect, a bare CR or LF, a line over 998 characters, or no text/plain part.
"""
import base64
import email
import email.policy
import json
import sys


def check(path):
    with open(path, "rb") as f:
        raw = f.read()
    problems = []
    lines = raw.split(b"\r\n")
    for number, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            problems.append("line %d has a bare CR or LF" % number)
        if len(line) > 998:
            problems.append("line %d is %d characters long" % (number, len(line)))
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    for number, line in enumerate(header_block.split(b"\r\n"), 1):
        if len(line) > 78 and b" " in line.strip():
            problems.append("header line %d is %d characters long" % (number, len(line)))
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    headers = {}
    for part in msg.walk():
        if part.defects:
            problems.append("defects: %r" % part.defects)
        for name, value in part.items():
            if getattr(value, "defects", None):
                problems.append("header %s defects: %r" % (name, value.defects))
    for name, value in msg.items():
        headers.setdefault(name, str(value))
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    if plain is None:
        problems.append("no text/plain part")
    attachments = []
    for part in msg.iter_attachments() if msg.is_multipart() else []:
        if part.get_content_disposition() != "attachment":
            continue
        payload = part.get_payload(decode=True)
        attachments.append({"filename": part.get_filename(), "content_type": part.get_content_type(),
                            "base64": base64.b64encode(payload).decode("ascii")})
    date = msg["date"]
    out = {
        "file": path,
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "from_name": msg["from"].addresses[0].display_name if msg["from"] else "",
        "to": str(msg["to"]),
        "to_name": msg["to"].addresses[0].display_name if msg["to"] else "",
        "to_address": msg["to"].addresses[0].addr_spec if msg["to"] else "",
        "message_id": str(msg["message-id"]),
        "in_reply_to": str(msg["in-reply-to"] or ""),
        "references": str(msg["references"] or ""),
        "date": date.datetime.isoformat() if date is not None and date.datetime else "",
        "content_type": msg.get_content_type(),
        "plain": plain.get_content() if plain is not None else None,
        "html": html.get_content() if html is not None else None,
        "headers": headers,
        "attachments": attachments,
        "problems": problems,
    }
    return out


def main():
    results = []
    failed = False
    for path in sys.argv[1:]:
        try:
            result = check(path)
        except Exception as e:  # a strict-mode defect raises
            result = {"file": path, "problems": ["%s: %s" % (type(e).__name__, e)]}
        if result["problems"]:
            failed = True
            print("%s: %s" % (path, "; ".join(result["problems"])), file=sys.stderr)
        results.append(result)
    print(json.dumps(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
