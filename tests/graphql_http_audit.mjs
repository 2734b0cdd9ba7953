// Runs the graphql-http audit suite (serverAudits) against a live /graphql and prints each
// audit's name and status as JSON lines. Usage: node graphql_http_audit.mjs URL KEY
// (the module is resolved from NODE_PATH: .venv/npm/node_modules, as .ci/run installs it).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { serverAudits } = require(require.resolve("graphql-http", { paths: (process.env.NODE_PATH || "").split(":") }));
const [url, key] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set("Authorization", `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason || null });
}
process.stdout.write(JSON.stringify(results));
