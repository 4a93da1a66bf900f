#!/usr/bin/env node
// Validates an OpenAPI document with @apidevtools/swagger-parser (schema and spec rules, $refs).
//
// Usage: node tests/node/validate-openapi.mjs <file path | http(s) URL | ->
//   a path reads the file; a URL fetches it (for example http://127.0.0.1:8080/v1/openapi.json);
//   "-" reads standard input.
// Exits 0 and prints a one-line summary when the document is valid; exits 1 with the validator's
// message when it is not; exits 2 on a usage error or when the document cannot be read.
import { readFile } from "node:fs/promises";
import SwaggerParser from "@apidevtools/swagger-parser";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function load(source) {
  if (source === "-") return readStdin();
  if (/^https?:\/\//i.test(source)) {
    const response = await fetch(source, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`GET ${source} answered ${response.status} ${response.statusText}`);
    return response.text();
  }
  return readFile(source, "utf8");
}

const source = process.argv[2];
if (!source || process.argv.length > 3 || source === "--help" || source === "-h") {
  console.error("usage: validate-openapi.mjs <file | URL | ->");
  process.exit(2);
}

let document;
try {
  document = JSON.parse(await load(source));
} catch (error) {
  console.error(`validate-openapi: cannot read ${source}: ${error.message}`);
  process.exit(2);
}

try {
  // validate() dereferences, so keep the parsed original for the summary.
  const summary = { version: document.openapi ?? document.swagger, title: document.info?.title };
  const api = await SwaggerParser.validate(structuredClone(document));
  let operations = 0;
  for (const item of Object.values(api.paths ?? {}))
    for (const method of ["get", "put", "post", "delete", "options", "head", "patch", "trace"])
      if (item[method]) operations += 1;
  console.log(
    `validate-openapi: ${source} is valid OpenAPI ${summary.version} ("${summary.title}"): ` +
      `${Object.keys(api.paths ?? {}).length} paths, ${operations} operations, ` +
      `${Object.keys(document.components?.schemas ?? {}).length} schemas`,
  );
} catch (error) {
  console.error(`validate-openapi: ${source} is not a valid OpenAPI document:\n${error.message}`);
  if (Array.isArray(error.details))
    for (const detail of error.details) console.error(`  - ${detail.instancePath ?? ""} ${detail.message ?? JSON.stringify(detail)}`);
  process.exit(1);
}
