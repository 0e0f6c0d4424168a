#!/bin/sh
# PID 1 of the cgroup v2 test VM: mounts what a booted Debian would (cgroup2 only: no v1 at all),
# loads the modules Docker needs, mounts the payload disk and runs the test in it, then powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
# /proc, /dev and /payload are mounted by /sbin/vm-boot (infra/vm/rootfs.sh).
mount -t sysfs sysfs /sys 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -o remount,rw /
for m in overlay bridge br_netfilter veth loop nf_nat iptable_nat iptable_filter xt_MASQUERADE xt_conntrack \
  xt_addrtype xt_comment xt_multiport ipt_REJECT; do modprobe "$m" 2>/dev/null; done
ip link set lo up
hostname vm
echo "VMTEST info booted in $(cut -d' ' -f1 /proc/uptime) s; cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
# As under systemd: the engine (started by the test) runs in a service's cgroup, not in the root
# one, with the controllers delegated down to it.
controllers=$(sed 's/\([a-z_]*\)/+\1/g' /sys/fs/cgroup/cgroup.controllers)
echo "$controllers" >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/system.slice/docker.service
echo "$controllers" >/sys/fs/cgroup/system.slice/cgroup.subtree_control
echo $$ >/sys/fs/cgroup/system.slice/docker.service/cgroup.procs
cd /payload && /payload/node /payload/guest.mjs
echo "VMTEST info finished at $(cut -d' ' -f1 /proc/uptime) s"
sync
echo o >/proc/sysrq-trigger
sleep 10
