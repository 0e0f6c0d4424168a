# shellcheck shell=bash
# Debian packages for the set-up's shell scripts (sourced by infra/setup/bootstrap.sh and
# infra/swarm/sandbox-host.sh, which define die).

# Sets `missing` to those of the packages given that are not installed.
find_missing_packages() {
  missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
}

# Installs the packages given, quietly; on failure shows the end of apt's log and dies, naming
# `$where` (this machine, this host) as what must reach its Debian mirror.
install_packages() {
  local where=$1
  shift
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a
  local apt_log
  apt_log=$(mktemp /tmp/dockyard-apt.XXXXXX)
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; } >"$apt_log" 2>&1; then
    tail -20 "$apt_log" >&2
    die "Installing $* failed (full log: $apt_log)." "Check that $where reaches its Debian mirror (apt-get update), then run this again."
  fi
  rm -f "$apt_log"
}
