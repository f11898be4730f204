#!/usr/bin/env bash
# Copy exactly the FFmpeg.wasm files the browser needs from npm into static/wasm/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
out=static/wasm
rm -rf "$out.tmp" && mkdir -p "$out.tmp/ffmpeg" "$out.tmp/util" "$out.tmp/core"
cp node_modules/@ffmpeg/ffmpeg/dist/esm/*.js "$out.tmp/ffmpeg/"
cp node_modules/@ffmpeg/util/dist/esm/*.js "$out.tmp/util/"
cp node_modules/@ffmpeg/core/dist/esm/ffmpeg-core.js node_modules/@ffmpeg/core/dist/esm/ffmpeg-core.wasm "$out.tmp/core/"
# Served with Content-Encoding: gzip to browsers that accept it (31 MB -> about 10 MB).
gzip -9 -k "$out.tmp/core/ffmpeg-core.wasm"
version=$(node -p 'const l=require("./package-lock.json").packages; ["@ffmpeg/ffmpeg","@ffmpeg/util","@ffmpeg/core"].map(n=>l["node_modules/"+n].version).join("-")')
echo "$version" > "$out.tmp/VERSION"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "FFmpeg.wasm $version installed into $out/"
