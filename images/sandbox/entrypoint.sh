#!/bin/sh
# Sandbox PID 1 (under tini): makes the container's own cgroups writable for the inner engine,
# writes its configuration from the environment, starts containerd, and runs dockerd on a unix
# socket only.
set -eu

# Under gVisor the engine's runc is a wrapper that makes a SIGKILL reach the whole container (see it).
if [ "${DOCKYARD_RUNTIME:-}" = gvisor ]; then export PATH="/usr/local/lib/dockyard/gvisor:$PATH"; fi

# containerd first, in the background while the rest is set up; dockerd connects to it below.
# (A containerd that dockerd starts itself costs about 1 s: dockerd's first connection attempt
# comes too early and gRPC waits a second before the next one.)
if [ $# -eq 0 ]; then
  mkdir -p /run/containerd
  containerd --config /etc/dockyard/containerd.toml >/var/log/containerd.log 2>&1 &
fi

# cgroup v1: each controller is mounted read-only in the container. Remounting our own
# subtree read-write lets the inner engine nest its containers below us, so the limits the
# host put on the sandbox cover everything the learner starts.
if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
  for d in /sys/fs/cgroup/*/; do mount -o remount,rw,bind "$d" 2>/dev/null || true; done
else
  # cgroup v2: move ourselves into a leaf so controllers can be enabled for the engine. With user
  # namespaces the host hands this cgroup to sandbox root (chown) just after the start: wait for
  # that, at most 5 s, rather than lose the race (seen on a cgroup v2 host: the sandbox exited).
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
  i=0
  until [ -w /sys/fs/cgroup/cgroup.subtree_control ] || [ $i -ge 500 ]; do sleep 0.01; i=$((i + 1)); done
  mkdir -p /sys/fs/cgroup/init || {
    echo "dockyard: /sys/fs/cgroup is not writable: the host did not delegate this sandbox's cgroup" >&2
    exit 1
  }
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
fi

# The root filesystem is read-only; root's home, /tmp and the engine's storage are on the sandbox's
# own disk, and /etc/docker is a small tmpfs. A new disk has an empty home: seed it.
[ -e /root/.bashrc ] || cp -a /etc/skel/. /root/
mkdir -p /root/work

mirror_host=${DOCKYARD_MIRROR#*://}
# Under gVisor (DOCKYARD_RUNTIME=gvisor, set by the server for runsc) the inner engine writes no
# iptables rules: gVisor's netstack has no nat for Docker's chains. Published ports go through
# docker-proxy instead, and the NAT below lets inner containers reach out.
engine_net=
# docker0's address, pinned under gVisor: the NAT below sends connections to it.
bridge_ip=172.17.0.1
if [ "${DOCKYARD_RUNTIME:-}" = gvisor ]; then
  engine_net="
  \"iptables\": false,
  \"ip6tables\": false,
  \"bip\": \"$bridge_ip/16\","
fi
mkdir -p /etc/docker
cat >/etc/docker/daemon.json <<JSON
{${engine_net}
  "hosts": ["unix:///var/run/docker.sock"],
  "registry-mirrors": ["$DOCKYARD_MIRROR"],
  "insecure-registries": ["$mirror_host"],
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "log-opts": { "max-size": "5m", "max-file": "2" }
}
JSON

if [ $# -gt 0 ]; then exec "$@"; fi

if [ "${DOCKYARD_RUNTIME:-}" = gvisor ]; then
  # Inner containers' traffic leaves with the sandbox's own address, as Docker's MASQUERADE rule does
  # under runc. gVisor's nat table rewrites tcp and udp only, and ignores `-o` in POSTROUTING, so the
  # rules pick by destination instead: the sandbox network (the mirror, the host) and anything
  # public, never the sandbox itself or the private ranges its inner networks come from.
  cidr=$(ip -4 -o addr show eth0 | awk '{ print $4; exit }')
  addr=${cidr%/*}
  iptables -t nat -N DOCKYARD-OUT
  iptables -t nat -A POSTROUTING -j DOCKYARD-OUT
  iptables -t nat -A DOCKYARD-OUT -s "$addr" -j RETURN
  iptables -t nat -A DOCKYARD-OUT -d "$addr" -j RETURN
  for proto in tcp udp; do
    iptables -t nat -A DOCKYARD-OUT -d "$cidr" -p $proto -j SNAT --to-source "$addr"
  done
  for private in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8; do
    iptables -t nat -A DOCKYARD-OUT -d $private -j RETURN
  done
  for proto in tcp udp; do
    iptables -t nat -A DOCKYARD-OUT -p $proto -j SNAT --to-source "$addr"
  done
  # An inner container reaching a published port at the sandbox's own address (Docker's hairpin):
  # gVisor drops a packet that comes in on an inner bridge for eth0's address, so it is sent to
  # docker0's address instead, where docker-proxy listens too (a port bound to 127.0.0.1 stays
  # closed, as under runc). What comes in on eth0 (the host, previews) is left alone: by a RETURN,
  # as gVisor drops the `!` of `! -i eth0`.
  iptables -t nat -N DOCKYARD-HAIRPIN
  iptables -t nat -A PREROUTING -d "$addr" -j DOCKYARD-HAIRPIN
  iptables -t nat -A DOCKYARD-HAIRPIN -i eth0 -j RETURN
  for proto in tcp udp; do
    iptables -t nat -A DOCKYARD-HAIRPIN -p $proto -j DNAT --to-destination "$bridge_ip"
  done
fi

i=0
while [ ! -S /run/containerd/containerd.sock ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done

# /proc/sys is read-only here, so the engine cannot turn IPv6 off on a container's interface;
# this tells it to go on without (otherwise every container start fails).
export DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1
exec dockerd --containerd /run/containerd/containerd.sock >/var/log/dockerd.log 2>&1
