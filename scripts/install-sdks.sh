#!/usr/bin/env bash
# Owns installing Momento's official SDKs for the compatibility tests into target/sdk/ (venv + node_modules).
#
# Usage: scripts/install-sdks.sh
#
#   target/sdk/venv               python3 -m venv with PyPI momento==1.29.1 (run compat/python/*.py with
#                                 target/sdk/venv/bin/python)
#   target/sdk/node/node_modules  npm @gomomento/sdk@1.118.1, installed with `npm ci` from
#                                 compat/js/package.json + package-lock.json (compat/js/*.mjs load it
#                                 from there; MOMENTO_JS_SDK_DIR overrides the directory)
#
# Idempotent: an install that already reports the pinned versions is kept without touching the
# network, so a second run takes well under a second. Only package registries are used (pip, npm).
# Prints `python=<path>` and `node_modules=<path>` on stdout; progress goes to stderr. Environment:
#   SDK_INSTALL_PYTHON  interpreter that creates the venv (default: python3 on PATH)
#   SDK_INSTALL_FORCE   set to 1 to reinstall both
set -euo pipefail

PY_SDK_VERSION=1.29.1
JS_SDK_VERSION=1.118.1

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
SDK_ROOT="$REPO_ROOT/target/sdk"
VENV="$SDK_ROOT/venv"
NODE_DIR="$SDK_ROOT/node"
JS_SRC="$REPO_ROOT/compat/js"

log() { printf 'install-sdks: %s\n' "$*" >&2; }
die() { printf 'install-sdks: error: %s\n' "$*" >&2; exit 1; }

FORCE="${SDK_INSTALL_FORCE:-0}"
mkdir -p "$SDK_ROOT"

# Serialize concurrent runs (e.g. several test binaries starting at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$SDK_ROOT/.install.lock"
  flock 9
fi

# --- Python: momento==$PY_SDK_VERSION in target/sdk/venv --------------------------------------
python_ok() {
  [[ -x "$VENV/bin/python" ]] || return 1
  local v
  v="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("momento"))' 2>/dev/null)" || return 1
  [[ "$v" == "$PY_SDK_VERSION" ]] && "$VENV/bin/python" -c 'import momento' 2>/dev/null
}

if [[ "$FORCE" != 1 ]] && python_ok; then
  log "python SDK momento==$PY_SDK_VERSION already in $VENV"
else
  py="${SDK_INSTALL_PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "no $py on PATH (set SDK_INSTALL_PYTHON)"
  log "creating $VENV with $("$py" --version 2>&1)"
  rm -rf "$VENV"
  "$py" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  log "pip install momento==$PY_SDK_VERSION"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "momento==$PY_SDK_VERSION" >&2
  python_ok || die "momento==$PY_SDK_VERSION did not install into $VENV"
fi

# --- Node.js: @gomomento/sdk@$JS_SDK_VERSION in target/sdk/node/node_modules -----------------
command -v node >/dev/null 2>&1 || die "no node on PATH"
command -v npm >/dev/null 2>&1 || die "no npm on PATH"

node_ok() {
  [[ -f "$NODE_DIR/package.json" && -f "$NODE_DIR/package-lock.json" ]] || return 1
  cmp -s "$JS_SRC/package.json" "$NODE_DIR/package.json" || return 1
  cmp -s "$JS_SRC/package-lock.json" "$NODE_DIR/package-lock.json" || return 1
  local v
  v="$(cd "$NODE_DIR" && node -e 'process.stdout.write(require("@gomomento/sdk/package.json").version)' 2>/dev/null)" || return 1
  [[ "$v" == "$JS_SDK_VERSION" ]]
}

if [[ "$FORCE" != 1 ]] && node_ok; then
  log "node SDK @gomomento/sdk@$JS_SDK_VERSION already in $NODE_DIR/node_modules"
else
  [[ -f "$JS_SRC/package.json" && -f "$JS_SRC/package-lock.json" ]] ||
    die "missing $JS_SRC/package.json or package-lock.json"
  log "npm ci @gomomento/sdk@$JS_SDK_VERSION into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp "$JS_SRC/package.json" "$JS_SRC/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
  node_ok || die "@gomomento/sdk@$JS_SDK_VERSION did not install into $NODE_DIR"
fi

echo "python=$VENV/bin/python"
echo "node_modules=$NODE_DIR/node_modules"
