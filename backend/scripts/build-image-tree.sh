#!/bin/sh
# The build steps of backend/Dockerfile, kept here so that the image and
# backend/test/integration/image-build.test.ts (which has no Docker daemon) run the very same lines.
# Run from the root of the build context:
#   build-image-tree.sh dependencies OUT   with the package manifests in place
#   build-image-tree.sh application OUT    with the whole context in place
# OUT then holds what the image runs: the production node_modules, backend/dist, the dashboard
# (backend/public), the migrations and an empty data directory. Start it with
# `node backend/dist/main.js` from OUT.
set -eu
step=${1:?usage: build-image-tree.sh dependencies|application OUT}
out=${2:?usage: build-image-tree.sh dependencies|application OUT}

case "$step" in
  dependencies)
    # What compiling the server and the dashboard needs. --ignore-scripts: the dashboard
    # workspace's `prepare` builds it, and its sources are not here yet.
    npm ci -w backend -w frontend --ignore-scripts --no-audit --no-fund
    # The server's production dependencies alone, in the tree the image ships. npm ci accepts the
    # lockfile only with every workspace's package.json beside it.
    for manifest in package.json package-lock.json backend/package.json frontend/package.json infra/package.json bench/package.json; do
      mkdir -p "$out/$(dirname "$manifest")"
      cp "$manifest" "$out/$manifest"
    done
    (cd "$out" && npm ci --omit=dev -w backend --ignore-scripts --no-audit --no-fund)
    ;;
  application)
    npm run build -w backend
    npm run build -w frontend
    rm -rf "$out/backend/dist" "$out/backend/public" "$out/backend/migrations"
    # The compiled server, the dashboard it serves at / (backend/dist/dashboard looks in
    # backend/public) and the SQL migrations it applies at start-up.
    cp -R backend/dist backend/public backend/migrations "$out/backend/"
    mkdir -p "$out/data"
    ;;
  *)
    echo "build-image-tree.sh: unknown step $step (dependencies or application)" >&2
    exit 2
    ;;
esac
