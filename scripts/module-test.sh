#!/usr/bin/env bash
# Runs `terraform test` for examples/modules/topic-fanout against a live momento-mock started on a
# free port (the Makefile's `module-test`). Exits non-zero when any test run fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
work="$(mktemp -d)"
trap 'stop_mock; rm -rf "$work"' EXIT

find_terraform
start_mock "$work"
use_mirror_provider "$work"
echo "terraform test of examples/modules/topic-fanout against momento-mock at $MOCK_ENDPOINT ($("$TERRAFORM" version | head -n 1))"
cp -r "$ROOT/examples/modules/topic-fanout" "$work/module"
cd "$work/module"
"$TERRAFORM" init -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }
status=0
MOMENTO_ENDPOINT="$MOCK_ENDPOINT" "$TERRAFORM" test -no-color -var "endpoint=$MOCK_ENDPOINT" >"$work/test.log" 2>&1 || status=$?
grep -v -e "^│" -e "^╷" -e "^╵" -e "development overrides" -e "^ - local/momento in" "$work/test.log" || true
[[ $status -eq 0 ]] || { echo "terraform test failed (exit $status)"; exit 1; }
left="$(curl -fsS "$MOCK_ENDPOINT/_mock/caches")"
[[ "$left" == '{"caches":[]}' ]] || { echo "terraform test left caches behind: $left"; exit 1; }
