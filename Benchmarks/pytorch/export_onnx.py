#!/usr/bin/env python3
"""Exports the IFAN network (Benchmarks/pytorch/ifan_torch.py, which reproduces the official network's parity
fixture) to ONNX for the ONNX Runtime and OpenVINO comparison (Benchmarks/compare-peers.sh). Never run by the
tests. Height and width are dynamic (multiples of 8, as IFAN needs). The exported file is checked with ONNX
Runtime on the parity fixture and fails unless its output is within 1e-4 of the official network's.

    python3 Benchmarks/pytorch/export_onnx.py --weights CKPT --output ifan.onnx [--check FIXTURE_DIR]

Needs torch and onnx (onnxruntime for --check); none of them is a dependency of rigctl.
"""
import argparse
import os
import sys

try:
    import torch
except ImportError:
    print("export_onnx.py: torch is not installed; skipped", file=sys.stderr)
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ifan_torch  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--check")
    args = ap.parse_args()
    model = ifan_torch.load(args.weights)
    example = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    torch.onnx.export(model, (example,), args.output, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}},
                      opset_version=17, dynamo=False)
    print(f"exported {args.output} (opset 17, torch {torch.__version__})")
    if args.check:
        import numpy as np
        import onnxruntime as ort
        x = np.load(f"{args.check}/input.npy")[None].astype(np.float32)
        expected = np.load(f"{args.check}/expected_output.npy")
        session = ort.InferenceSession(args.output, providers=["CPUExecutionProvider"])
        diff = float(np.abs(session.run(None, {"input": x})[0][0] - expected).max())
        print(f"ONNX parity with {args.check}: max |difference| {diff:.2e}")
        if not diff <= 1e-4:
            sys.exit("export_onnx.py: the exported network does not reproduce the fixture")


if __name__ == "__main__":
    main()
