#!/usr/bin/env bash
# Builds a `debian` image: a minbase rootfs of one Debian release from debootstrap, imported as an image.
# Env: IMAGE (tag to create), LABELS (space-separated key=value), APT_MIRROR, SUITE (default trixie).
set -euo pipefail
rootfs=$(mktemp -d /tmp/dockyard-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase "${SUITE:-trixie}" "$rootfs" "$APT_MIRROR" >"$rootfs.log" 2>&1 || {
  tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# Keep the image lean and reproducible-ish: no apt lists, no caches, no machine id.
# Like Docker Hub's -slim variants: no manuals, docs or translations, now or from later installs.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CONF
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
: >"$rootfs/etc/machine-id"
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CONF
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/no-recommends"
changes=(--change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
for l in $LABELS; do changes+=(--change "LABEL $l"); done
tar -C "$rootfs" --numeric-owner -c . | docker import "${changes[@]}" - "$IMAGE" >/dev/null
