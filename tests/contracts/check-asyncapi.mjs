// Parses an AsyncAPI document with @asyncapi/parser (the AsyncAPI Initiative's reference
// parser: schema validation plus its semantic rules, relative $refs resolved from the file)
// and prints {"errors": [...], "warnings": [...], "channels": [...]} as JSON.
// Exit code: 0 when it has no errors, 1 otherwise, 2 on usage.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node check-asyncapi.mjs FILE");
  process.exit(2);
}
const source = resolve(file);
const { document, diagnostics } = await new Parser().parse(readFileSync(source, "utf8"), { source });
const describe = (d) => ({ code: d.code, path: d.path.join("."), message: d.message });
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(describe);
const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).map(describe);
const channels = document
  ? document.channels().all().map((c) => ({
      id: c.id(),
      address: c.address(),
      messages: c.messages().all().map((m) => m.id()),
    }))
  : [];
console.log(JSON.stringify({ errors, warnings, channels }, null, 2));
process.exit(errors.length === 0 && document ? 0 : 1);
