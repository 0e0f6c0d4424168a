#!/usr/bin/env bash
# Builds the `busybox` image from Debian's static busybox: one binary plus its applet links.
# Env: IMAGE (tag to create), LABELS (space-separated key=value).
set -euo pipefail
root=$(mktemp -d /tmp/dockyard-busybox.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,var/www}
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
changes=(--change 'CMD ["sh"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
for l in $LABELS; do changes+=(--change "LABEL $l"); done
tar -C "$root" --numeric-owner -c . | docker import "${changes[@]}" - "$IMAGE" >/dev/null
