#!/bin/sh
# Starts the server in its container (infra/compose/compose.yaml) after making what a container
# lacks and the server's sandbox disks need.
set -eu

# Loop devices: compose passes /dev/loop-control and allows block devices 7:*, but a container's
# /dev has no /dev/loopN, and the kernel adds loop devices on the host as they are needed. Make a
# node for every loop device the host has now, and one for each sandbox this server may add.
highest=$(ls /sys/devices/virtual/block | sed -n 's/^loop\([0-9][0-9]*\)$/\1/p' | sort -n | tail -1)
last=$((${highest:-0} + ${DOCKYARD_MAX_SANDBOXES:-40} + 8))
i=0
while [ "$i" -le "$last" ]; do
  [ -e "/dev/loop$i" ] || mknod -m 0660 "/dev/loop$i" b 7 "$i"
  i=$((i + 1))
done

# /proc/sys is read-only in a container. The server writes each sandbox's own limits under
# /proc/sys/user after entering the sandbox's user namespace (infra/engine/host-limits.ts).
mount -o remount,rw,bind /proc/sys /proc/sys 2>/dev/null || mount -o remount,rw /proc/sys

exec node /app/sandbox-server/src/main.ts "$@"
