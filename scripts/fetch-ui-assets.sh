#!/usr/bin/env bash
# Fetches the dashboard's browser libraries from the npm registry into
# serve/ui/static/vendor/, where go:embed picks them up. The files are
# committed, so building spof needs no network; run this only to change a
# version (edit the pins below, run it, review and commit the diff).
#
# Each package is pinned by version and by the sha512 integrity the registry
# published for that version: the script checks that the registry still
# reports that integrity (npm view ... dist.integrity) and that the tarball it
# downloads hashes to it, then copies the browser build and the LICENSE, and
# writes vendor/VERSIONS (package, version, file, sha256 of each file).
#
# cytoscape-dagre 4 bundles its layout engine (@dagrejs/dagre 3.0.0 with
# @dagrejs/graphlib 4.0.1) into dist/cytoscape-dagre.js, so no separate dagre
# script is served; only those two packages' LICENSE files are taken, since
# their code ships inside cytoscape-dagre.js.
#
# Needs npm, curl, tar, openssl and sha256sum. Running it twice gives the same
# files.
set -euo pipefail

# name version integrity [tarball-path=vendor-name ...]
packages=(
  "cytoscape 3.34.4 sha512-msY99tMY8iWTg+sIPGfSqDcPNOt4xcj+v/K/7qUFaCUxxlqnMkUYLBjRUzn9W5CU/R2hrmtJa5+UtovrEM2ctg==
   dist/cytoscape.min.js=cytoscape.min.js LICENSE=cytoscape.LICENSE"
  "cytoscape-dagre 4.0.1 sha512-hyNdh8Vp1nwzBcjHnM4c71G81bFhPmQYLXD2HM9AZIvl+8TrMzWEOPW45hF/XOBQiEguPcDQzi6VrXR1XBcXOA==
   dist/cytoscape-dagre.js=cytoscape-dagre.js LICENSE=cytoscape-dagre.LICENSE"
  "@dagrejs/dagre 3.0.0 sha512-ZzhnTy1rfuoew9Ez3EIw4L2znPGnYYhfn8vc9c4oB8iw6QAsszbiU0vRhlxWPFnmmNSFAkrYeF1PhM5m4lAN0Q==
   LICENSE=dagre.LICENSE"
  "@dagrejs/graphlib 4.0.1 sha512-IvcV6FduIIAmLwnH+yun+QtV36SC7mERqa86aClNqmMN09WhmPPYU8ckHrZBozErf+UvHPWOTJYaGYiIcs0DgA==
   LICENSE=graphlib.LICENSE"
)

die() {
  echo "fetch-ui-assets: $*" >&2
  exit 1
}

for tool in npm curl tar openssl sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (needed to fetch and verify the npm packages)"
done

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/serve/ui/static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"

versions="$tmp/out/VERSIONS"
{
  echo "# Written by scripts/fetch-ui-assets.sh from the npm registry; do not edit."
  echo "# package version file sha256"
} >"$versions"

for entry in "${packages[@]}"; do
  # shellcheck disable=SC2086 # split the entry into its words
  set -- $entry
  name=$1 version=$2 want=$3
  shift 3
  spec="$name@$version"

  got=$(npm view "$spec" dist.integrity 2>"$tmp/npm.err") ||
    die "npm view $spec dist.integrity failed: $(cat "$tmp/npm.err")"
  [ "$got" = "$want" ] ||
    die "$spec: the registry reports integrity $got, pinned $want (a different tarball; check before changing the pin)"
  url=$(npm view "$spec" dist.tarball 2>"$tmp/npm.err") ||
    die "npm view $spec dist.tarball failed: $(cat "$tmp/npm.err")"

  tgz="$tmp/$(echo "$name" | tr / _)-$version.tgz"
  curl -fsSL --retry 3 --max-time 120 -o "$tgz" "$url" || die "downloading $url failed"
  sum="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 | tr -d '\n')"
  [ "$sum" = "$want" ] || die "$url: sha512 integrity $sum, want $want (corrupt or tampered download)"

  pkg="$tmp/pkg"
  rm -rf "$pkg" && mkdir "$pkg"
  for f in "$@"; do
    src=${f%%=*}
    tar -xzf "$tgz" -C "$pkg" "package/$src" 2>/dev/null || die "$spec: the tarball has no $src"
    cp "$pkg/package/$src" "$tmp/out/${f#*=}"
    echo "$name $version ${f#*=} $(sha256sum "$tmp/out/${f#*=}" | cut -d' ' -f1)" >>"$versions"
  done
  echo "fetch-ui-assets: $spec verified ($want)"
done

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$tmp/out" "$dest"
echo "fetch-ui-assets: wrote $(ls "$dest" | wc -l) files to ${dest#"$root"/}"
