#!/usr/bin/env bash
# Builds the cgroup v2 test VM's root filesystem: Debian 12 from debootstrap with its cloud kernel,
# Docker Engine (Debian's docker.io, as the set-up installs on a host) and what the driver calls
# (mkfs.ext4, mount, nsenter, iptables). Writes OUT/root.img (ext4), OUT/vmlinuz, OUT/initrd.img.
# Env: OUT (folder), APT_MIRROR.
set -euo pipefail
packages=linux-image-cloud-amd64,initramfs-tools,docker.io,iptables,kmod,e2fsprogs,iproute2,procps,curl,ca-certificates,util-linux,passwd
root=$(mktemp -d /tmp/dockyard-vmroot.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$APT_MIRROR" >"$OUT/debootstrap.log" 2>&1 || {
  tail -20 "$OUT/debootstrap.log" >&2; exit 1; }
# The guest runs with the same iptables backend as the hosts the set-up prepares.
chroot "$root" update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
chroot "$root" update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
mkdir -p "$root/payload"
# The kernel starts this; everything else comes from the payload disk (the test's own code), so a
# change to the test never rebuilds this file system.
cat >"$root/sbin/vm-boot" <<'BOOT'
#!/bin/sh
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /payload
mount -o ro /dev/vdb /payload && exec /payload/guest-init.sh
echo "VMTEST fail boot: the payload disk did not mount"
echo o >/proc/sysrq-trigger
BOOT
chmod +x "$root/sbin/vm-boot"
cp "$root"/boot/vmlinuz-* "$OUT/vmlinuz"
cp "$root"/boot/initrd.img-* "$OUT/initrd.img"
# Room for the sandbox image, its disk and the engine's storage.
mkfs.ext4 -q -F -L vmroot -d "$root" "$OUT/root.img" 6G
