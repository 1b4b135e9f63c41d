#!/usr/bin/env bash
# Regenerates the TypeScript of proto/carbon/v1/*.proto with ts-proto (protoc from Debian's protobuf-compiler).
# The output is committed; proto/generated.test.ts fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-proto/gen}"
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=forceLong=number,esModuleInterop=true,importSuffix=.ts,outputServices=grpc-js,useOptionals=messages,env=node,useExactTypes=false,outputIndex=false \
  -I proto \
  $(find proto/carbon -name '*.proto' | sort)
