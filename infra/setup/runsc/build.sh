#!/bin/sh
# Builds runsc from Debian trixie's golang-gvisor-gvisor with the patches in this folder, inside a
# trixie container (infra/setup/lib/runsc.ts runs it): /out/runsc and /out/runsc.deb at the end.
# Only the Debian mirror is used. The .dsc answers 404 there, so the two archives it names are
# fetched by hand and checked against the sums in Debian's Sources index (pinned here).
set -eu
MIRROR=${APT_MIRROR:?}
VERSION=0.0~20240729.0
REVISION=4
ORIG_SHA=8677fe60daa0519bb77139c58fec6c9e4ea1ee12f9f673007c6c0e3545ef69d2
DEBIAN_SHA=4c6943f04cb36010aeb0c001fc5fdbf0d2dec895eabeefd6c38e59febc2da472

export DEBIAN_FRONTEND=noninteractive
printf 'deb %s trixie main\ndeb-src %s trixie main\n' "$MIRROR" "$MIRROR" > /etc/apt/sources.list
rm -f /etc/apt/sources.list.d/*
apt-get update -qq
apt-get install -y -qq --no-install-recommends curl ca-certificates dpkg-dev quilt >/dev/null
apt-get build-dep -y -qq golang-gvisor-gvisor >/dev/null

mkdir -p /build && cd /build
POOL=$MIRROR/pool/main/g/golang-gvisor-gvisor
ORIG=golang-gvisor-gvisor_$VERSION.orig.tar.gz
DEB=golang-gvisor-gvisor_$VERSION-$REVISION.debian.tar.xz
curl -fsS -o "$ORIG" "$POOL/$ORIG"
curl -fsS -o "$DEB" "$POOL/$DEB"
printf '%s  %s\n%s  %s\n' "$ORIG_SHA" "$ORIG" "$DEBIAN_SHA" "$DEB" | sha256sum -c --quiet

tar xzf "$ORIG"
cd "golang-gvisor-gvisor-$VERSION"
tar xJf "../$DEB"
for p in /patches/*.patch; do
  cp "$p" debian/patches/
  basename "$p" >> debian/patches/series
done
# Arch-only (-B): the runsc package, not the Go sources package.
DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -B -us -uc -j"$(nproc)" >/build/log 2>&1 || { tail -50 /build/log; exit 1; }
cd /build
dpkg-deb -x runsc_*.deb root
install -m 0755 root/usr/bin/runsc /out/runsc
cp runsc_*.deb /out/runsc.deb
