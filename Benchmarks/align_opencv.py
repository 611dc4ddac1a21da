#!/usr/bin/env python3
"""Runs OpenCV's registration on the pair that AlignBenchmark writes (AlignBenchmark --write DIR), for comparison.

Run by hand, never by tests; needs numpy and opencv-python-headless (not dependencies of rigctl).
Prints time and worst corner error for findTransformECC at full resolution, a 4-level pyramid of
findTransformECC (what findTransformECCMultiScale does in OpenCV 5, written out so it also runs on 4.x)
and ORB + RANSAC.

    python3 Benchmarks/align_opencv.py DIR
"""
import json
import sys
import time

import cv2
import numpy as np


def worst_corner_error(h, truth, w, hgt):
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, hgt - 1, 1], [w - 1, hgt - 1, 1]], float).T
    a = h @ corners
    b = truth @ corners
    a = a[:2] / a[2]
    b = b[:2] / b[2]
    return float(np.max(np.hypot(*(a - b))))


def ecc(src, tgt, init, criteria):
    # OpenCV's ECC warps the input (tgt) onto the template (src) with warp mapping template -> input coordinates.
    _, warp = cv2.findTransformECC(src, tgt, init.astype(np.float32), cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
    return warp.astype(float)


def pyramid_ecc(src, tgt, levels, criteria):
    s_pyr, t_pyr = [src], [tgt]
    for _ in range(levels - 1):
        s_pyr.append(cv2.pyrDown(s_pyr[-1]))
        t_pyr.append(cv2.pyrDown(t_pyr[-1]))
    h = np.eye(3)
    scale = np.diag([2.0, 2.0, 1.0])
    for lvl in reversed(range(levels)):
        if lvl != levels - 1:
            h = scale @ h @ np.linalg.inv(scale)
        h = ecc(s_pyr[lvl], t_pyr[lvl], h, criteria)
    return h


def orb_ransac(src, tgt):
    s8 = (src * 255).astype(np.uint8)
    t8 = (tgt * 255).astype(np.uint8)
    orb = cv2.ORB_create(5000)
    ks, ds = orb.detectAndCompute(s8, None)
    kt, dt = orb.detectAndCompute(t8, None)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(ds, dt)
    a = np.float32([ks[m.queryIdx].pt for m in matches])
    b = np.float32([kt[m.trainIdx].pt for m in matches])
    h, _ = cv2.findHomography(a, b, cv2.RANSAC, 2.0)
    return h


def timed(name, fn, truth, w, h, repeats):
    times, cpu = [], []
    result = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    err = worst_corner_error(result, truth, w, h)
    print(f"{name}: median {1000 * sorted(times)[len(times) // 2]:.1f} ms, CPU {1000 * sorted(cpu)[len(cpu) // 2]:.1f} ms, "
          f"worst corner error {err:.4f} px")


def main():
    d = sys.argv[1]
    src = cv2.imread(f"{d}/source.png", cv2.IMREAD_UNCHANGED).astype(np.float32) / 65535
    tgt = cv2.imread(f"{d}/target.png", cv2.IMREAD_UNCHANGED).astype(np.float32) / 65535
    truth = np.array(json.load(open(f"{d}/truth.json"))["homography"], float)
    h, w = src.shape
    cv2.setNumThreads(2)
    print(f"OpenCV {cv2.__version__}, {w}x{h}, threads {cv2.getNumThreads()}")
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-6)
    timed("ORB + RANSAC", lambda: orb_ransac(src, tgt), truth, w, h, 3)
    timed("findTransformECC, 4-level pyramid", lambda: pyramid_ecc(src, tgt, 4, criteria), truth, w, h, 3)
    if hasattr(cv2, "findTransformECCMultiScale"):
        params = cv2.ECCParameters()
        params.motionType = cv2.MOTION_HOMOGRAPHY

        def multiscale():
            _, warp = cv2.findTransformECCMultiScale(src, tgt, np.eye(3, dtype=np.float32), params)
            return warp.astype(float)

        timed("findTransformECCMultiScale", multiscale, truth, w, h, 3)
    timed("findTransformECC, full resolution from the identity", lambda: ecc(src, tgt, np.eye(3), criteria),
          truth, w, h, 1)


if __name__ == "__main__":
    main()
