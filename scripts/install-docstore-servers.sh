#!/usr/bin/env bash
# The servers the @lock/docstore tests start (see shared TEST-SERVERS notes and
# packages/testkit/src/docstore-specs.ts):
# - FerretDB: our Go program embedding github.com/FerretDB/FerretDB v1.24.2 (packages/testkit/ferretdb),
#   built from the Go module proxy. A warm module and build cache makes this a few seconds; a cold
#   one about 95 s to 3 min on 2 cores.
# - The Firestore emulator: a jar in the machine's Google Cloud SDK, run with java. It cannot be
#   installed from a package registry here, so this only checks that it is present.
# - dynalite: an npm devDependency of @lock/docstore, installed by pnpm install.
# Fails loudly when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "install-docstore-servers: $*" >&2
  exit 1
}

command -v go >/dev/null || fail "Go is needed to build the FerretDB test server (https://go.dev/dl/)"
started=$SECONDS
(cd packages/testkit/ferretdb && GOFLAGS=-buildvcs=false go build -trimpath -o ferretdb-test .) ||
  fail "building FerretDB failed"
echo "FerretDB test server built in $((SECONDS - started)) s: packages/testkit/ferretdb/ferretdb-test"

command -v java >/dev/null || fail "Java 11+ is needed to run the Firestore emulator (apt-get install openjdk-17-jre-headless)"
sdk=${CLOUDSDK_ROOT_DIR:-$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)}
[ -n "$sdk" ] || fail "the Google Cloud SDK is needed for the Firestore emulator (gcloud not found)"
jar="$sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
[ -f "$jar" ] || fail "the Firestore emulator is not in the Google Cloud SDK at $sdk (gcloud components install cloud-firestore-emulator)"
echo "Firestore emulator: $jar ($(java -version 2>&1 | head -1))"
