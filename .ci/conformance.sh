#!/usr/bin/env bash
# Runs the MCP conformance suite against the guarded fixture server (io.mcpguard.examples.conformance).
# Needs npm; builds what it runs itself (nothing may come from an earlier `mvn install`: a new machine has none).
# Installs Node 22 and the suite from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${CONFORMANCE_PORT:-39123}"
(cd .ci/conformance && npm ci --no-audit --no-fund --loglevel=error)
export PATH="$PWD/.ci/conformance/node_modules/.bin:$PATH"
echo "conformance suite on node $(node --version)"

# One reactor invocation builds core and spring and resolves the examples' classpath against them. Without -am the
# examples module would look for mcp-guard-core in the local Maven repository, which a fresh clone never filled.
mvn -B -q -ntp -pl mcp-guard-examples -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$PWD/mcp-guard-examples/target/classpath.txt"
cp="mcp-guard-examples/target/classes:mcp-guard-core/target/classes:mcp-guard-spring/target/classes"
cp="$cp:$(cat mcp-guard-examples/target/classpath.txt)"
log="mcp-guard-examples/target/conformance-fixture.log"
java -cp "$cp" io.mcpguard.examples.conformance.ConformanceServer "$port" > "$log" 2>&1 &
fixture=$!
trap 'kill "$fixture" 2>/dev/null || true' EXIT

for _ in $(seq 1 60); do
  grep -q "conformance fixture on" "$log" && break
  kill -0 "$fixture" 2>/dev/null || { echo "fixture server died:"; cat "$log"; exit 1; }
  sleep 1
done
grep -q "conformance fixture on" "$log" || { echo "fixture server did not start:"; cat "$log"; exit 1; }

# Every scenario of the active suite must pass; a baseline of expected failures is enforced when it lists any.
conformance server --url "http://localhost:$port/mcp" --suite active \
  --expected-failures .ci/conformance/expected-failures.yml
