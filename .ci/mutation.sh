#!/usr/bin/env bash
# Mutation testing of mcp-guard-core's deciding code (PIT): fails the build below the thresholds in
# mcp-guard-core/pom.xml (profile "mutation"). Builds what it needs in one reactor run; nothing comes from an earlier
# `mvn install`. See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
mvn -B -ntp -pl mcp-guard-core -am -Pmutation verify
end=$(date +%s)
echo "mutation testing took $((end - start)) s"
report=mcp-guard-core/target/pit-reports/deciding/mutations.xml
if [ -f "$report" ]; then
  total=$(grep -c "<mutation " "$report" || true)
  killed=$(grep -c "status='KILLED'\|status='TIMED_OUT'\|status='MEMORY_ERROR'\|status='RUN_ERROR'" "$report" || true)
  echo "mutants: $total, killed (incl. time-outs): $killed"
fi
