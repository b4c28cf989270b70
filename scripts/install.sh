#!/usr/bin/env bash
# Install Tiering Studio into .venv inside the project. Safe to run again:
# a step that is already done is skipped.
#
#   bash scripts/install.sh          the app's Python packages
#   bash scripts/install.sh --test   also the test tools, Debian's chromium
#                                    and Chinese fonts for the browser tests
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="$PROJECT_DIR/.venv"
STAMP="$VENV_DIR/.installed-requirements"
DEB_TEST_PACKAGES=(chromium fonts-noto-cjk)

log() { printf '[install] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The newest python3.11+ on PATH: python3.11 first, then python3.
find_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      command -v "$candidate"
      return
    fi
  done
  die "Python 3.11 or newer is needed; install it (apt-get install python3) and retry."
}

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (run as root or install sudo)"
  fi
}

# Whether a Debian package is installed (not merely known or half-removed).
deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Install Debian packages that are not installed yet; refresh the package
# lists first only when apt does not know one of them.
apt_install() {
  local missing=() package
  for package in "$@"; do
    deb_installed "$package" || missing+=("$package")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "no apt-get here; install these with your package manager: ${missing[*]}"

  for package in "${missing[@]}"; do
    if ! apt-cache show "$package" >/dev/null 2>&1; then
      log "refreshing Debian package lists"
      as_root apt-get update -qq
      break
    fi
  done
  log "installing Debian packages: ${missing[*]}"
  # Lists that know a package can still be too old to fetch it (404): then
  # refresh them once and try again.
  if ! apt_get_install "${missing[@]}"; then
    log "refreshing Debian package lists and retrying"
    as_root apt-get update -qq
    apt_get_install "${missing[@]}"
  fi
}

apt_get_install() {
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Create .venv unless a working one is there. Debian ships venv separately.
make_venv() {
  if [[ -x "$VENV_DIR/bin/python" ]] && "$VENV_DIR/bin/python" -c 'import pip' 2>/dev/null; then
    return
  fi
  local python
  python="$(find_python)"
  if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install python3-venv
  fi
  log "creating $VENV_DIR with $("$python" --version)"
  rm -rf "$VENV_DIR"
  "$python" -m venv "$VENV_DIR"
}

# pip-install a requirements file unless the same file was installed before.
install_requirements() {
  local requirements="$1" digest
  digest="$(cat "$PROJECT_DIR"/requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [[ -f "$STAMP" ]] && grep -qx "$digest $requirements" "$STAMP"; then
    return
  fi
  log "installing Python packages from $requirements"
  "$VENV_DIR/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$PROJECT_DIR/$requirements"
  echo "$digest $requirements" >>"$STAMP"
}

main() {
  local with_tests=0
  case "${1:-}" in
    "") ;;
    --test) with_tests=1 ;;
    *) die "unknown option '$1'; use: bash scripts/install.sh [--test]" ;;
  esac

  make_venv
  if [[ $with_tests -eq 1 ]]; then
    install_requirements requirements-dev.txt
    apt_install "${DEB_TEST_PACKAGES[@]}"
  else
    install_requirements requirements.txt
  fi
}

main "$@"
