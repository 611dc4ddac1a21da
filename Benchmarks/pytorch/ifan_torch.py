#!/usr/bin/env python3
"""IFAN in PyTorch, for a same-machine comparison with rigctl's engine (never run by the tests).

The network is written here from the architecture facts in docs/ifan.md (the official configs/config_IFAN.py:
ks 3, ch 32, res_num 2, Fs 3, N 17), with the module names of the released checkpoints, so a checkpoint loads
with strict=True after the `module.Network.` prefix is stripped. It computes what the official code computes at
inference, including the filter predictor's full 1x1 layer (all 17 x 896 channels), so its cost is the official
network's. `--check DIR` runs a parity fixture folder (ifan-random: IFAN_random.pytorch, input.npy,
expected_output.npy) first and fails unless the output is within 1e-4, which shows this is the same network.

    python3 Benchmarks/pytorch/ifan_torch.py --weights CKPT [--size 1280x720 | --input IN.png --output OUT.png]
        [--threads 2] [--runs 3] [--check FIXTURE_DIR]

Needs torch (and numpy, pillow for PNG input); not a dependency of rigctl. Prints the forward time of each run
and the median, the threads and torch's CPU capability.
"""
import argparse
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("ifan_torch.py: torch is not installed; skipped", file=sys.stderr)
    sys.exit(0)

SLOPE = 0.1


def conv(cin, cout, k=3, stride=1, act=True):
    layer = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=True)
    return nn.Sequential(layer, nn.LeakyReLU(SLOPE)) if act else layer


class ResnetBlock(nn.Module):
    """Per stem x = LReLU(x + conv(LReLU(conv(x)))); with more than one stem the input is added again at the end."""

    def __init__(self, c, stems):
        super().__init__()
        self.stem = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.LeakyReLU(SLOPE), nn.Conv2d(c, c, 3, 1, 1)) for _ in range(stems)])

    def forward(self, x):
        x0 = x
        for s in self.stem:
            x = F.leaky_relu(x + s(x), SLOPE)
        return x + x0 if len(self.stem) > 1 else x


def upconv(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=True), nn.LeakyReLU(SLOPE))


def iac(x, k1, bias):
    """One IAC iteration: vertical then horizontal 3-tap pass with kernel1, replicate padding, + bias, LReLU."""
    b, c, h, w = x.shape
    k = k1.view(b, c, 3, h, w)
    p = F.pad(x, (0, 0, 1, 1), mode="replicate")
    mid = k[:, :, 0] * p[:, :, 0:h] + k[:, :, 1] * p[:, :, 1:h + 1] + k[:, :, 2] * p[:, :, 2:h + 2]
    p = F.pad(mid, (1, 1, 0, 0), mode="replicate")
    out = k[:, :, 0] * p[..., 0:w] + k[:, :, 1] * p[..., 1:w + 1] + k[:, :, 2] * p[..., 2:w + 2]
    return F.leaky_relu(out + bias, SLOPE)


class IFAN(nn.Module):
    def __init__(self, n=17):
        super().__init__()
        self.n = n
        c1, c2, c3, c4 = 32, 64, 128, 128
        for p in ("conv", "kconv"):
            for name, cin, cout, s in [("1_1", 3, c1, 1), ("1_2", c1, c1, 1), ("1_3", c1, c1, 1),
                                       ("2_1", c1, c2, 2), ("2_2", c2, c2, 1), ("2_3", c2, c2, 1),
                                       ("3_1", c2, c3, 2), ("3_2", c3, c3, 1), ("3_3", c3, c3, 1),
                                       ("4_1", c3, c4, 2), ("4_2", c4, c4, 1), ("4_3", c4, c4, 1)]:
                setattr(self, p + name, conv(cin, cout, stride=s))
        self.DME = nn.Sequential(conv(c4, c4), ResnetBlock(c4, 2), ResnetBlock(c4, 2), conv(c4, 1, act=False))
        self.conv_DME = conv(1, c4)
        self.conv4_4 = nn.Sequential(conv(2 * c4, c4), ResnetBlock(c4, 2), ResnetBlock(c4, 2), conv(c4, c4))
        self.F = nn.Sequential(conv(c4, c4), ResnetBlock(c4, 2), ResnetBlock(c4, 2),
                               conv(c4, n * (6 * c4 + c4), k=1, act=False))
        self.conv_res = nn.Sequential(conv(c4, c4), ResnetBlock(c4, 3), conv(c4, c4))
        self.upconv3_u = upconv(c4, c3)
        self.upconv3_1 = ResnetBlock(c3, 1)
        self.upconv3_2 = ResnetBlock(c3, 1)
        self.upconv2_u = upconv(c3, c2)
        self.upconv2_1 = ResnetBlock(c2, 1)
        self.upconv2_2 = ResnetBlock(c2, 1)
        self.upconv1_u = upconv(c2, c1)
        self.upconv1_1 = ResnetBlock(c1, 1)
        self.upconv1_2 = ResnetBlock(c1, 1)
        self.out_res = conv(c1, 3)

    def seq(self, prefix, x, stage):
        for i in (1, 2, 3):
            x = getattr(self, f"{prefix}{stage}_{i}")(x)
        return x

    def forward(self, c):
        f = c
        for stage in (1, 2, 3, 4):
            f = self.seq("kconv", f, stage)
        dm = self.DME(f)
        g = self.conv4_4(torch.cat([f, self.conv_DME(dm)], 1))
        filters = self.F(g)
        f1 = self.seq("conv", c, 1)
        f2 = self.seq("conv", f1, 2)
        f3 = self.seq("conv", f2, 3)
        x = self.seq("conv", f3, 4)
        c4 = x.shape[1]
        bias_start = self.n * 6 * c4
        for i in range(self.n):
            k1 = filters[:, 6 * c4 * i:6 * c4 * i + 3 * c4]
            b = filters[:, bias_start + c4 * i:bias_start + c4 * (i + 1)]
            x = iac(x, k1, b)
        x = self.conv_res(x)
        x = self.upconv3_2(self.upconv3_1(self.upconv3_u(x) + f3))
        x = self.upconv2_2(self.upconv2_1(self.upconv2_u(x) + f2))
        x = self.upconv1_2(self.upconv1_1(self.upconv1_u(x) + f1))
        return torch.clamp(self.out_res(x) + c, 0, 1)


def load(path):
    state = torch.load(path, map_location="cpu", weights_only=True)
    prefix = "module.Network."
    net_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    n = net_state["F.3.weight"].shape[0] // (7 * 128)
    model = IFAN(n)
    model.load_state_dict(net_state, strict=True)
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--input")
    ap.add_argument("--output")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--check")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load(args.weights)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, mkldnn {torch.backends.mkldnn.is_available()}")
    if args.check:
        import numpy as np
        x = torch.from_numpy(np.load(f"{args.check}/input.npy"))[None]
        expected = np.load(f"{args.check}/expected_output.npy")
        with torch.inference_mode():
            diff = float(np.abs(model(x)[0].numpy() - expected).max())
        print(f"parity with {args.check}: max |difference| {diff:.2e}")
        if not diff <= 1e-4:
            sys.exit("ifan_torch.py: this network does not reproduce the fixture")
    if args.input:
        import numpy as np
        from PIL import Image
        a = np.asarray(Image.open(args.input).convert("RGB"), dtype=np.float32) / 255
        x = torch.from_numpy(a.transpose(2, 0, 1).copy())[None]
    else:
        w, h = (int(v) for v in args.size.split("x"))
        x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(1))
    times = []
    with torch.inference_mode():
        for _ in range(max(1, args.runs)):
            t0 = time.perf_counter()
            y = model(x)
            times.append(time.perf_counter() - t0)
    print("forward " + " ".join(f"{t:.2f}" for t in times) + f" s; median {statistics.median(times):.2f} s at "
          f"{x.shape[3]}x{x.shape[2]}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.output:
        import numpy as np
        from PIL import Image
        out = (y[0].numpy().transpose(1, 2, 0) * 255).round().clip(0, 255).astype(np.uint8)
        Image.fromarray(out).save(args.output)


if __name__ == "__main__":
    main()
