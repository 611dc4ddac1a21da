#!/usr/bin/env bash
# Same-machine, same-run comparison of rigctl's IFAN engine and LPIPS with its peers: PyTorch (the official
# architecture, Benchmarks/pytorch/ifan_torch.py, and the lpips 0.1.4 package), and ONNX Runtime and OpenVINO
# running that network exported to ONNX here (Benchmarks/pytorch/export_onnx.py, checked against the parity
# fixture). Never run by the tests; skipped cleanly when torch is not installed, and each ONNX peer left out when
# its package (or onnx, for the export) is not (none is a dependency of rigctl).
#
#   Benchmarks/compare-peers.sh [RUNS]          (PYTHON=/path/to/venv/bin/python3, default python3; RUNS default 3)
#
# Weights: the IFAN parity fixture (random, in the released layout) and LPIPS's learned linear layers with the
# fixture's random AlexNet backbone: speed does not depend on the values. Both sides run 2 threads. Whole
# processes are timed with /usr/bin/time, A and B in turn, and the medians printed; each script's own forward time
# (without process start, torch import or PNG coding) is printed too. Quote the load average printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
RUNS=${1:-3}
FIXTURES=../shared/fixtures
if ! "$PYTHON" -c 'import torch, lpips, PIL, numpy' 2>/dev/null; then
    echo "compare-peers: torch, lpips, pillow or numpy is not installed for $PYTHON; skipped" >&2
    exit 0
fi
swift build -c release --product rigctl >/dev/null
swift build -c release --product IFANBenchmark >/dev/null
swift build -c release --product MetricsBenchmark >/dev/null
BIN=.build/release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export RIGCTL_HOME="$WORK/home"

"$BIN/rigctl" model import "$FIXTURES/ifan-random/IFAN_random.pytorch" -o "$WORK/ifan.safetensors" >/dev/null
"$BIN/rigctl" lpips install --lin "$FIXTURES/metrics/lpips_v0.1_alex_lin.pth" \
    --backbone "$FIXTURES/metrics/alexnet_random_features.pth" --output "$WORK/lpips.safetensors" >/dev/null
"$PYTHON" - "$WORK" <<'EOF'
import sys
import numpy as np
from PIL import Image
work = sys.argv[1]
rng = np.random.default_rng(7)
def picture(w, h, noise):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([0.5 + 0.4 * np.sin(x / 37 + c) * np.cos(y / 53) for c in range(3)], -1)
    return (np.clip(base + noise * (rng.random((h, w, 3)) - 0.5), 0, 1) * 255).round().astype(np.uint8)
Image.fromarray(picture(1280, 720, 0.2)).save(f"{work}/blurry.png")
Image.fromarray(picture(1680, 1120, 0.0)).save(f"{work}/target.png")
Image.fromarray(picture(1680, 1120, 0.1)).save(f"{work}/output.png")
EOF

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $("$BIN/rigctl" --version | grep -i kernels || true)"
"$PYTHON" -c 'import torch; print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")'
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Parity of the PyTorch definition with the official network's fixture output.
"$PYTHON" Benchmarks/pytorch/ifan_torch.py --weights "$FIXTURES/ifan-random/IFAN_random.pytorch" \
    --check "$FIXTURES/ifan-random" --size 64x64 | grep parity

# The ONNX peers, each where its runtime is installed (the export needs onnx, its check onnxruntime).
PEERS=()
if "$PYTHON" -c 'import onnx, onnxruntime' 2>/dev/null \
    && "$PYTHON" Benchmarks/pytorch/export_onnx.py --weights "$FIXTURES/ifan-random/IFAN_random.pytorch" \
        --output "$WORK/ifan.onnx" --check "$FIXTURES/ifan-random" 2>/dev/null | grep -E "exported|parity"; then
    PEERS+=(onnxruntime)
    "$PYTHON" -c 'import openvino' 2>/dev/null && PEERS+=(openvino)
fi
echo "ONNX peers: ${PEERS[*]:-none installed}"

# time_runs NAME COMMAND...: one line "NAME wall user+sys maxrss_kb" per run into $WORK/times.
time_run() {
    local name=$1; shift
    /usr/bin/time -f "$name %e %U %S %M" -a -o "$WORK/times" "$@" >>"$WORK/log" 2>&1
}
for _ in $(seq "$RUNS"); do
    time_run rigctl-deblur "$BIN/rigctl" deblur "$WORK/blurry.png" -o "$WORK/swift.png" --model "$WORK/ifan.safetensors"
    time_run torch-ifan "$PYTHON" Benchmarks/pytorch/ifan_torch.py --weights "$FIXTURES/ifan-random/IFAN_random.pytorch" \
        --input "$WORK/blurry.png" --output "$WORK/torch.png" --threads 2
    for peer in "${PEERS[@]}"; do
        time_run "$peer-ifan" "$PYTHON" Benchmarks/pytorch/ifan_peer.py --runtime "$peer" --model "$WORK/ifan.onnx" \
            --input "$WORK/blurry.png" --output "$WORK/$peer.png" --threads 2
    done
    time_run rigctl-metrics "$BIN/rigctl" metrics "$WORK/output.png" "$WORK/target.png" --lpips-weights "$WORK/lpips.safetensors"
    time_run torch-lpips "$PYTHON" Benchmarks/pytorch/lpips_torch.py "$WORK/output.png" "$WORK/target.png" \
        --backbone "$FIXTURES/metrics/alexnet_random_features.pth" --runs 1 --threads 2
done
echo "whole processes, median of $RUNS (wall s, CPU s, peak RSS MB):"
"$PYTHON" - "$WORK/times" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, user, sys_, rss = line.split()
    rows.setdefault(name, []).append((float(wall), float(user) + float(sys_), int(rss) / 1024))
for name, runs in rows.items():
    med = [statistics.median(r[i] for r in runs) for i in range(3)]
    print(f"  {name:15s} {med[0]:7.2f} {med[1]:7.2f} {med[2]:7.0f}")
def ratio(a, b):
    if a in rows and b in rows:
        pairs = [x[0] / y[0] for x, y in zip(rows[a], rows[b])]
        print(f"  {a} / {b} wall: median {statistics.median(pairs):.2f} (each run: "
              + ", ".join(f"{p:.2f}" for p in pairs) + ")")
ratio("rigctl-deblur", "torch-ifan")
ratio("rigctl-deblur", "onnxruntime-ifan")
ratio("rigctl-deblur", "openvino-ifan")
ratio("rigctl-metrics", "torch-lpips")
EOF
grep -h "forward\|^lpips " "$WORK/log" | sed 's/^/  torch /' || true
# Forward passes alone, inside each process.
echo "forward alone, 1280x720:"
"$BIN/IFANBenchmark" --runs "$RUNS" | grep -E "wall|CPU|kernels" | sed 's/^/  rigctl /'
"$PYTHON" Benchmarks/pytorch/ifan_torch.py --weights "$FIXTURES/ifan-random/IFAN_random.pytorch" --runs "$RUNS" \
    --threads 2 | sed 's/^/  torch /'
for peer in "${PEERS[@]}"; do
    "$PYTHON" Benchmarks/pytorch/ifan_peer.py --runtime "$peer" --model "$WORK/ifan.onnx" --runs "$RUNS" --threads 2 \
        | sed "s/^/  $peer /"
done
echo "LPIPS alone, 1680x1120 pair:"
"$BIN/MetricsBenchmark" --pair "$WORK/output.png" "$WORK/target.png" --lpips-weights "$WORK/lpips.safetensors" \
    --runs "$RUNS" | grep -E "^LPIPS" | sed 's/^/  rigctl /'
"$PYTHON" Benchmarks/pytorch/lpips_torch.py "$WORK/output.png" "$WORK/target.png" \
    --backbone "$FIXTURES/metrics/alexnet_random_features.pth" --runs "$RUNS" --threads 2 | sed 's/^/  torch /'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
