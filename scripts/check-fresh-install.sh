#!/usr/bin/env bash
# Proves the fresh-machine install path of the native FAISS binding:
#   1. git clone this repo into a temp folder, `npm ci` there with an EMPTY PIRAMID_CACHE_DIR
#      (postinstall builds FAISS and the addon from scratch), timed;
#   2. a second fresh clone, `npm ci` with the same (now warm) cache, timed;
#   and checks each clone's addon loads and answers a search.
# Debian packages already installed are reused (they are system-wide; the install step adds any
# that are missing when run as root). npm's own package cache (~/.npm) is reused too.
#
# usage: scripts/check-fresh-install.sh [--worktree-manifest] [--keep]
#   --worktree-manifest  use this working tree's package.json/package-lock.json in the clones
#                        (when they have uncommitted changes the install depends on)
#   --keep               keep the temp folder (clones, cache, logs) for inspection
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
use_worktree_manifest=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --worktree-manifest) use_worktree_manifest=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/piramid-fresh-XXXXXX")"
cache="$work/cache"
mkdir -p "$cache"
[ "$keep" = 1 ] && touch "$work/.keep"
trap 'if [ -e "$work/.keep" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi' EXIT

if ! git -C "$repo" diff --quiet HEAD -- package.json package-lock.json; then
  if [ "$use_worktree_manifest" = 1 ]; then
    echo "note: using the working tree's uncommitted package.json/package-lock.json" >&2
  else
    echo "warning: package.json/package-lock.json have uncommitted changes; the clones use HEAD's" \
         "(pass --worktree-manifest to use the working tree's)" >&2
  fi
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# one fresh clone + install; prints the seconds taken on stdout, the log's native lines on stderr
install_fresh() {
  local name="$1" dir="$work/$1" log="$work/$1.log" t0 t1 cmd
  git clone -q "$repo" "$dir"
  if [ "$use_worktree_manifest" = 1 ]; then
    cp "$repo/package.json" "$dir/package.json"
    [ -f "$repo/package-lock.json" ] && cp "$repo/package-lock.json" "$dir/package-lock.json"
  fi
  if [ -f "$dir/package-lock.json" ]; then cmd=(npm ci); else cmd=(npm install); fi
  t0="$(now)"
  if ! (cd "$dir" && PIRAMID_CACHE_DIR="$cache" "${cmd[@]}" --no-audit --no-fund --foreground-scripts >"$log" 2>&1); then
    echo "FAILED: ${cmd[*]} in $dir (log below)" >&2
    tail -40 "$log" >&2
    touch "$work/.keep"
    exit 1
  fi
  t1="$(now)"
  grep 'piramid-native:' "$log" | sed "s/^/  [$name] /" >&2 || true
  verify "$dir" "$name" || { touch "$work/.keep"; exit 1; }
  elapsed "$t0" "$t1"
}

# the clone's addon loads (in a new process) and answers a search correctly
verify() {
  local dir="$1" name="$2"
  (cd "$dir" && node --input-type=module -e '
    import { createRequire } from "node:module";
    import { readFileSync } from "node:fs";
    const faiss = createRequire(import.meta.url)("./native/build/faiss-node.node");
    const info = JSON.parse(readFileSync("native/build/build-info.json", "utf8"));
    const d = 64, n = 2000;
    const x = new Float32Array(n * d).map((_, i) => ((i * 2654435761) % 4294967296) / 4294967296 - 0.5);
    const index = faiss.Index.fromFactory(d, "HNSW16", 1);
    index.add(x);
    index.setParam("efSearch", 64);
    const r = index.search(x.subarray(1234 * d, 1235 * d), 3);
    if (!(r.labels instanceof Float64Array) || r.labels[0] !== 1234) { console.error("bad search result", r); process.exit(1); }
    console.error(`  ['"$name"'] addon OK: route ${info.route}, FAISS ${info.faissVersion} ${info.optLevel}, top label ${r.labels[0]}`);
  ') >&2
}

echo "== fresh install (empty cache $cache)" >&2
fresh="$(install_fresh fresh)"
echo "== reinstall in a new clone with the warm cache" >&2
cached="$(install_fresh cached)"

echo
echo "fresh install (npm ci, empty cache):  ${fresh}s"
echo "cached reinstall (npm ci, warm cache): ${cached}s"
