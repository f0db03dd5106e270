#!/bin/sh
# The Node release the image runs (backend/Dockerfile's NODE_IMAGE pin), as a plain binary for a
# machine without Docker: .ci/run fetches it, and backend/test/integration/image-build.test.ts
# starts the built server with it, so the image's runtime is the one tested.
#   image-node.sh version        the release the Dockerfile pins, e.g. 24.21.0
#   image-node.sh path [DIR]     where `fetch` puts its binary: DIR/node-v<version>/bin/node
#   image-node.sh fetch [DIR]    put it there, from the npm registry's node-linux-<arch> package
#                                (the official build; npm checks the tarball's integrity), unless
#                                it is there already; prints the path
# DIR defaults to .cache/image-node at the repository root (git ignores .cache).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dockerfile="$root/backend/Dockerfile"
command=${1:?usage: image-node.sh version|path|fetch [DIR]}
dir=${2:-$root/.cache/image-node}

fail() {
  echo "image-node.sh: $*" >&2
  exit 1
}

# The version is read from the Dockerfile alone: the tag of NODE_IMAGE names the whole release
# (node:24.21.0-bookworm-slim@sha256:…), whose digest is what the image pulls.
version=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9]*\.[0-9]*\.[0-9]*\)-[a-z0-9.-]*@sha256:[0-9a-f]\{64\}$/\1/p' "$dockerfile")
[ -n "$version" ] || fail "no 'ARG NODE_IMAGE=node:<major.minor.patch>-<variant>@sha256:<digest>' line in $dockerfile"

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "no node-linux build for $(uname -m)" ;;
esac
bin="$dir/node-v$version/bin/node"

case "$command" in
  version) echo "$version" ;;
  path) echo "$bin" ;;
  fetch)
    if [ -x "$bin" ] && [ "$("$bin" --version)" = "v$version" ]; then
      echo "$bin"
      exit 0
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # In an empty directory, so that no project or workspace of this repository is involved.
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
    tar -xzf "$tmp/node-linux-$arch-$version.tgz" -C "$tmp" package/bin/node
    got=$("$tmp/package/bin/node" --version)
    [ "$got" = "v$version" ] || fail "node-linux-$arch@$version holds Node $got"
    mkdir -p "$(dirname "$bin")"
    mv "$tmp/package/bin/node" "$bin"
    echo "$bin"
    ;;
  *) fail "unknown command $command (version, path or fetch)" ;;
esac
