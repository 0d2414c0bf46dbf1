#!/usr/bin/env bash
# Refreshes the third-party browser assets under web/static/vendor/ from the
# npm registry: only the files the pages load, each package's LICENSE, and
# the tarball's integrity in web/static/vendor/README.md's table. Not run in
# CI; run it by hand after changing a version below, then review the diff.
#
#   bash web/vendor.sh
set -euo pipefail
cd "$(dirname "$0")"

# package@version, then the files to copy from the tarball's package/ dir.
packages=(
  "leaflet@1.9.4 dist/leaflet.js dist/leaflet.css dist/images/layers.png dist/images/layers-2x.png LICENSE"
  "topojson-client@3.1.0 dist/topojson-client.min.js LICENSE"
  "world-atlas@2.0.2 countries-50m.json LICENSE"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf static/vendor/*@*/
for spec in "${packages[@]}"; do
  read -r pkg files <<<"$spec"
  (cd "$tmp" && npm pack --silent --json "$pkg" >"$tmp/${pkg%@*}.json")
  tarball=$(sed -n 's/.*"filename": "\(.*\)".*/\1/p' "$tmp/${pkg%@*}.json")
  integrity=$(sed -n 's/.*"integrity": "\(.*\)".*/\1/p' "$tmp/${pkg%@*}.json")
  mkdir -p "$tmp/${pkg%@*}"
  tar -xzf "$tmp/$tarball" -C "$tmp/${pkg%@*}"
  dest="static/vendor/$pkg"
  for f in $files; do
    mkdir -p "$dest/$(dirname "${f#dist/}")"
    cp "$tmp/${pkg%@*}/package/$f" "$dest/${f#dist/}"
  done
  echo "$pkg $integrity"
done
echo "vendor.sh: copy the integrity lines above into static/vendor/README.md"
