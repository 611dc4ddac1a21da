#!/usr/bin/env python3
"""PyTorch's lpips 0.1.4 (net 'alex', v0.1) on one pair, for a same-machine comparison with `rigctl metrics`.

Never run by the tests. The learned linear layers are the ones the lpips package ships; the AlexNet backbone is built with
`pnet_rand=True` (torchvision's ImageNet weights would be downloaded, which this must not need) and, with
`--backbone FILE`, loaded from that file's `features.N.*` tensors (the metrics fixture's
alexnet_random_features.pth). The cost does not depend on the values. `--expect VALUE` fails unless the distance
is within 1e-3 relative of VALUE (the fixture's expected.json).

    python3 Benchmarks/pytorch/lpips_torch.py OUT.png TARGET.png [--backbone FILE] [--expect VALUE] [--threads 2] [--runs 3]

Prints each run's time for the LPIPS forward alone (both images; PNG decoding not counted) and the median.
"""
import argparse
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import lpips
    from PIL import Image
except ImportError as e:
    print(f"lpips_torch.py: {e.name} is not installed; skipped", file=sys.stderr)
    sys.exit(0)


def read(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None] * 2 - 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output")
    ap.add_argument("target")
    ap.add_argument("--backbone")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--expect", type=float)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    metric = lpips.LPIPS(net="alex", version="0.1", pnet_rand=True, verbose=False)
    if args.backbone:
        state = torch.load(args.backbone, map_location="cpu", weights_only=True)
        # lpips's slices keep torchvision's module names: features.N is slice_k._modules[str(N)].
        for k, index in enumerate((0, 3, 6, 8, 10)):
            layer = getattr(metric.net, f"slice{k + 1}")._modules[str(index)]
            layer.weight.data.copy_(state[f"features.{index}.weight"])
            layer.bias.data.copy_(state[f"features.{index}.bias"])
    metric.eval()
    a, b = read(args.output), read(args.target)
    times = []
    with torch.inference_mode():
        for _ in range(max(1, args.runs)):
            t0 = time.perf_counter()
            d = float(metric(a, b).item())
            times.append(time.perf_counter() - t0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}; lpips alex v0.1 at {a.shape[3]}x{a.shape[2]}: {d:.6f}")
    print("lpips " + " ".join(f"{t:.3f}" for t in times) + f" s; median {statistics.median(times):.3f} s")
    if args.expect is not None and abs(d - args.expect) > 1e-3 * abs(args.expect):
        sys.exit(f"lpips_torch.py: {d} differs from the expected {args.expect}")


if __name__ == "__main__":
    main()
