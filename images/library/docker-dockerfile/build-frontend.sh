#!/usr/bin/env bash
# Builds BuildKit's Dockerfile frontend (the program behind `# syntax=docker/dockerfile:1`) from
# Debian's docker.io source, offline: Debian's patches applied, Go packages from /usr/share/gocode,
# GOPATH mode as debian/rules does it. Leaves a static binary at /out/dockerfile-frontend.
set -euo pipefail

# docker.io 26.1.5 bundles BuildKit v0.13.2 (its engine/vendor.mod; Debian's get-orig-source.sh
# takes the buildkit component from there). Upstream tagged that very commit dockerfile/1.7.1 and
# dockerfile/1.7.1-labs. The tarball's hash pins that claim: a new upstream BuildKit in Debian
# stops the build here rather than ship under a version it is not.
BUILDKIT_ORIG_SHA256=3a4a472c237b1caf456aac2cae810fea2b4fae9d0e9e71af5540645b510ff10c
BUILDKIT_COMMIT=2e18d709fefdcc2db20853ee241c75b058189d39
DOCKERFILE_VERSION=1.7.1
PKG=github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend

mkdir -p /src/dl /src/docker.io
cd /src/dl
# Not `apt-get source`: it wants the .dsc, which the mirror may lack for a security upload.
# These fetch the tarballs and Debian's packaging, checked against the signed Sources index.
apt-get source -qq --tar-only docker.io
apt-get source -qq --diff-only docker.io
echo "$BUILDKIT_ORIG_SHA256  $(echo docker.io_*.orig-buildkit.tar.xz)" | sha256sum -c --quiet || {
  echo "The buildkit component of Debian's docker.io is not BuildKit v0.13.2 (dockerfile $DOCKERFILE_VERSION) any more:" >&2
  echo "find its dockerfile frontend version and update build-frontend.sh and the tags in images/catalog.ts." >&2
  exit 1
}

# The source tree as dpkg-source lays it out: engine/ (main tarball), buildkit/, cli/, debian/.
cd /src/docker.io
tar -xf ../dl/docker.io_*.orig.tar.xz --strip-components=2
tar -xf ../dl/docker.io_*.orig-buildkit.tar.xz
tar -xf ../dl/docker.io_*.orig-cli.tar.xz
tar -xf ../dl/docker.io_*.debian.tar.xz
debian_version=$(sed -n '1s/^docker\.io (\([^)]*\)).*/\1/p' debian/changelog)
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' debian/patches/series | while read -r patch; do
  patch -p1 -N -s --no-backup-if-mismatch -i "debian/patches/$patch" </dev/null
done

# The labels our recipe gives the image must be the ones upstream's release Dockerfile sets.
frontend=buildkit/frontend/dockerfile/cmd/dockerfile-frontend
if ! diff <(grep '^LABEL moby\.buildkit\.' "$frontend/Dockerfile") <(grep '^LABEL moby\.buildkit\.' /src/recipe.Dockerfile); then
  echo "The LABEL lines differ from upstream's $frontend/Dockerfile: update images/library/docker-dockerfile/Dockerfile." >&2
  exit 1
fi

# GOPATH as debian/rules lays it out; buildkit imports a few engine packages (github.com/docker/docker),
# which come from this same source package rather than from a -dev package.
mkdir -p /build/src/github.com/moby /build/src/github.com/docker
mv buildkit /build/src/github.com/moby/buildkit
mv engine /build/src/github.com/docker/docker
export GOPATH=/build:/usr/share/gocode GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
  GOCACHE=/tmp/go-build
cd /build/src/github.com/moby/buildkit
# The mainline channel, with upstream's build tags and flags (frontend/dockerfile/release/mainline/tags
# is empty; the labs channel would add dfrunsecurity dfparents dfexcludepatterns).
tags="$(cat frontend/dockerfile/release/mainline/tags) netgo static_build osusergo"
go build -trimpath -o /out/dockerfile-frontend -tags "$tags" \
  -ldflags "-d -X main.Version=$DOCKERFILE_VERSION -X main.Revision=$BUILDKIT_COMMIT+debian-$debian_version -X main.Package=$PKG" \
  "./frontend/dockerfile/cmd/dockerfile-frontend"
/out/dockerfile-frontend -version
rm -rf /tmp/go-build /build /src
