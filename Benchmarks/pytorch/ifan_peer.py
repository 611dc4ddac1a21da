#!/usr/bin/env python3
"""Runs the exported IFAN network (export_onnx.py) with ONNX Runtime or OpenVINO, for the same-machine comparison
in Benchmarks/compare-peers.sh (never run by the tests; skipped when the runtime is not installed).

    python3 Benchmarks/pytorch/ifan_peer.py --runtime onnxruntime|openvino --model ifan.onnx
        [--size 1280x720 | --input IN.png --output OUT.png] [--threads 2] [--runs 1]

Prints each forward's time and the median (the first run of a shape includes the runtime's own preparation for
it, as a whole process's single run does), the threads and the peak RSS.
"""
import argparse
import resource
import statistics
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", choices=["onnxruntime", "openvino"], required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--input")
    ap.add_argument("--output")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    if args.input:
        from PIL import Image
        a = np.asarray(Image.open(args.input).convert("RGB"), dtype=np.float32) / 255
        x = np.ascontiguousarray(a.transpose(2, 0, 1))[None]
    else:
        w, h = (int(v) for v in args.size.split("x"))
        x = np.random.default_rng(1).random((1, 3, h, w), dtype=np.float32)
    if args.runtime == "onnxruntime":
        try:
            import onnxruntime as ort
        except ImportError:
            print("ifan_peer.py: onnxruntime is not installed; skipped", file=sys.stderr)
            sys.exit(0)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
        print(f"onnxruntime {ort.__version__}, {args.threads} threads")
        forward = lambda: session.run(None, {"input": x})[0]  # noqa: E731
    else:
        try:
            import openvino as ov
        except ImportError:
            print("ifan_peer.py: openvino is not installed; skipped", file=sys.stderr)
            sys.exit(0)
        core = ov.Core()
        compiled = core.compile_model(args.model, "CPU", {"INFERENCE_NUM_THREADS": args.threads,
                                                          "INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()
        print(f"openvino {ov.get_version()}, {args.threads} threads, f32")
        forward = lambda: request.infer({0: x})[compiled.output(0)]  # noqa: E731
    times = []
    for _ in range(max(1, args.runs)):
        t0 = time.perf_counter()
        y = forward()
        times.append(time.perf_counter() - t0)
    print("forward " + " ".join(f"{t:.2f}" for t in times) + f" s; median {statistics.median(times):.2f} s at "
          f"{x.shape[3]}x{x.shape[2]}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.output:
        from PIL import Image
        out = (np.asarray(y)[0].transpose(1, 2, 0) * 255).round().clip(0, 255).astype(np.uint8)
        Image.fromarray(out).save(args.output)


if __name__ == "__main__":
    main()
