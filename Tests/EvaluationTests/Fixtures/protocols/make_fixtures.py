#!/usr/bin/env python3
"""Makes the protocol parity fixtures: synthetic pairs with a known misalignment, gain and blur, scored by each
protocol's official code (fetched separately; nothing of it is copied here).

    python3 make_fixtures.py --ifan IFAN --dpdnet defocus-deblurring-dual-pixel --realblur RealBlur \
        --basicsr BasicSR --out .

IFAN, defocus-deblurring-dual-pixel, RealBlur and BasicSR are checkouts of github.com/codeslake/IFAN,
github.com/Abdullah-Abuolaim/defocus-deblurring-dual-pixel, github.com/rimchang/RealBlur and
github.com/XPixelGroup/BasicSR. Needs numpy, opencv-python-headless, scikit-image and scikit-learn. The official
modules are imported with the heavy imports they do not use for scoring (torch, TensorFlow's config, BasicSR's
package __init__ files, which import its training stack) stubbed, and scikit-image's removed `multichannel`
argument mapped to `channel_axis`; their scoring functions run unchanged. Writes PNGs and expected.json.

    python3 make_fixtures.py --pyiqa IQA-PyTorch [--pyiqa-revision SHA] --out .

IQA-PyTorch is a checkout of github.com/chaofengc/IQA-PyTorch (package pyiqa). Alone (without the four above), this
scores the PNGs already in --out with pyiqa's own metrics `psnry` and `ssim` as its default_model_configs.py
defines them, read by pyiqa's own imread2tensor, and adds them to expected.json as "pyiqa-y" (the rest of the file
is kept); given with the four, the full run scores them too. Needs torch, torchvision, scipy and Pillow. pyiqa's
package __init__ files (which import every metric, its models and training stack) are replaced by empty packages;
the modules the two metrics use run unchanged, with OpenCV stubbed in img_util (imread2tensor reads with Pillow).
It also scores every pair as "pyiqa-y-downsample": `psnry`, and the `ssim` config with `downsample=True`.

    python3 make_fixtures.py --pooled --out .

Writes the "pooled" pairs (8-bit only; then run --pyiqa alone to score them): large enough that IQA-PyTorch's
MATLAB-style downsampling pools them (its factor round(min(H, W) / 256) is 2 from 384 pixels, 3 above 640), at
sizes that leave rows and columns outside the last block, one at 640 where Python's round takes 2.5 to 2. Their
scenes are posterized and the outputs rounded to 1/32 so that the PNGs stay small. Needs numpy and
opencv-python-headless.
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import tempfile
import types

import numpy as np

cv2 = skimage = _ssim = mean_absolute_error = None


def import_scoring_tools():
    """OpenCV, scikit-image and scikit-learn, which the four scripts of the full run need (and the IQA-PyTorch run
    alone does not: its Python may lack them). Imported before any stand-in module exists."""
    global cv2, skimage, _ssim, mean_absolute_error
    import cv2
    import skimage
    from skimage.metrics import structural_similarity as _ssim
    from sklearn.metrics import mean_absolute_error


def ssim_with_multichannel(*args, multichannel=None, **kwargs):
    """scikit-image 0.17's `multichannel=True` is `channel_axis=-1` since 0.19."""
    if multichannel:
        kwargs["channel_axis"] = -1
    return _ssim(*args, **kwargs)


class Stub(types.ModuleType):
    """A stand-in module: any name imported from it is another stand-in (eval.py imports, but does not use for
    scoring, torch, its checkpoint manager and its models)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub(name)


def load(path, name, stubs=()):
    """Imports a file as a module, with empty stand-ins for `stubs` while it is imported (then removed again, so
    that other libraries do not mistake them for the real ones)."""
    added = [stub for stub in stubs if stub not in sys.modules]
    for stub in added:
        sys.modules[stub] = Stub(stub)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for stub in added:
            del sys.modules[stub]
    return module


def load_basicsr(root):
    """BasicSR's psnr_ssim.py and the three modules it imports, without the package __init__ files (which import
    its whole training stack): empty packages stand in for basicsr, basicsr.utils and basicsr.metrics, and
    basicsr.utils gets the one name metric_util takes from it (bgr2ycbcr, from color_util)."""
    for name, folder in (("basicsr", ""), ("basicsr.utils", "utils"), ("basicsr.metrics", "metrics")):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(root, "basicsr", folder)]
        sys.modules[name] = package
    torch = ["torch", "torch.nn", "torch.nn.functional"]
    for name, path in (("basicsr.utils.color_util", "utils/color_util.py"), ("basicsr.utils.registry", "utils/registry.py"),
                       ("basicsr.metrics.metric_util", "metrics/metric_util.py"),
                       ("basicsr.metrics.psnr_ssim", "metrics/psnr_ssim.py")):
        if name == "basicsr.metrics.metric_util":
            sys.modules["basicsr.utils"].bgr2ycbcr = sys.modules["basicsr.utils.color_util"].bgr2ycbcr
        sys.modules[name] = load(os.path.join(root, "basicsr", path), name, stubs=torch)
    return sys.modules["basicsr.metrics.psnr_ssim"]


def load_pyiqa(root, downsample=False):
    """IQA-PyTorch's PSNR and SSIM as its default configs build them, and its image reader: pyiqa's package
    __init__ files import every metric (and its models, downloads and training stack), so empty packages stand in
    for pyiqa, pyiqa.utils and pyiqa.archs; pyiqa.matlab_utils, color_util, registry, img_util, func_util,
    psnr_arch, ssim_arch and default_model_configs are imported from the checkout unchanged."""
    import importlib
    for name, folder in (("pyiqa", ""), ("pyiqa.utils", "utils"), ("pyiqa.archs", "archs")):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(root, "pyiqa", folder)]
        sys.modules[name] = package
    for name, path in (("pyiqa.utils.registry", "utils/registry.py"), ("pyiqa.utils.color_util", "utils/color_util.py")):
        sys.modules[name] = load(os.path.join(root, "pyiqa", path), name)
    importlib.import_module("pyiqa.matlab_utils")  # a real package: its __init__ imports only its own modules
    sys.modules["pyiqa.utils.img_util"] = load(os.path.join(root, "pyiqa", "utils", "img_util.py"),
                                               "pyiqa.utils.img_util", stubs=["cv2"])
    for name, path in (("pyiqa.archs.func_util", "archs/func_util.py"), ("pyiqa.archs.psnr_arch", "archs/psnr_arch.py"),
                       ("pyiqa.archs.ssim_arch", "archs/ssim_arch.py"),
                       ("pyiqa.default_model_configs", "default_model_configs.py")):
        sys.modules[name] = load(os.path.join(root, "pyiqa", path), name)
    configs = sys.modules["pyiqa.default_model_configs"].DEFAULT_CONFIGS
    classes = {"PSNR": sys.modules["pyiqa.archs.psnr_arch"].PSNR, "SSIM": sys.modules["pyiqa.archs.ssim_arch"].SSIM}

    def build(metric, **changed):
        """The network pyiqa.create_metric(metric, **changed) builds (InferenceModel: build_network(metric_opts)
        with the keyword arguments over the config's), in eval mode."""
        options = dict(configs[metric]["metric_opts"], **changed)
        return classes[options.pop("type")](**options).eval()

    ssim = build("ssim", downsample=True) if downsample else build("ssim")
    return build("psnry"), ssim, sys.modules["pyiqa.utils.img_util"].imread2tensor


def score_pyiqa(pyiqa, output_path, target_path):
    """InferenceModel.forward's path for a full-reference metric: each file read by imread2tensor(path, rgb=True)
    (float32 in [0, 1]) with a batch axis, then net(distorted, reference)."""
    import torch
    psnr_net, ssim_net, imread2tensor = pyiqa
    o = imread2tensor(output_path, rgb=True).unsqueeze(0)
    t = imread2tensor(target_path, rgb=True).unsqueeze(0)
    with torch.no_grad():
        return {"psnr": float(psnr_net(o, t).item()), "ssim": float(ssim_net(o, t).item())}


def pyiqa_versions(args):
    import torch
    return {"torch": torch.__version__.split("+")[0], "iqa-pytorch": args.pyiqa_revision or "unknown",
            "python (iqa-pytorch)": sys.version.split()[0]}


def pyiqa_only(args):
    """Adds "pyiqa-y" and "pyiqa-y-downsample" to every pair of an existing expected.json (the "pooled" pairs
    too), scoring the 8-bit PNGs already written."""
    pyiqa = load_pyiqa(args.pyiqa)
    pooled = load_pyiqa(args.pyiqa, downsample=True)
    path = os.path.join(args.out, "expected.json")
    with open(path) as f:
        expected = json.load(f)
    for entry in expected["pairs"] + expected.get("pooled", []):
        name = entry["name"]
        files = (f"{args.out}/{name}_output8.png", f"{args.out}/{name}_target8.png")
        entry["pyiqa-y"] = score_pyiqa(pyiqa, *files)
        entry["pyiqa-y-downsample"] = score_pyiqa(pooled, *files)
        print(name, json.dumps(entry["pyiqa-y"]), json.dumps(entry["pyiqa-y-downsample"]))
    expected["made_with"].update(pyiqa_versions(args))
    with open(path, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def scene(rng, width, height):
    """A textured RGB scene in [0.05, 0.95]: smooth blobs, gratings and hard edges."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.zeros((height, width, 3))
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(4, width / 3)
        img += rng.uniform(-0.4, 0.4, 3) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
    for _ in range(3):
        angle, period = rng.uniform(0, np.pi), rng.uniform(5, 17)
        img += 0.12 * np.sin((x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi / period)[..., None] * rng.uniform(0.3, 1, 3)
    for _ in range(4):
        x0, y0 = rng.integers(0, width - 8), rng.integers(0, height - 8)
        img[y0:y0 + rng.integers(6, height // 2), x0:x0 + rng.integers(6, width // 2)] += rng.uniform(-0.3, 0.3, 3)
    img -= img.min()
    return 0.05 + 0.9 * img / img.max()


def distort(img, shift, angle_deg, scale, sigma, gain, offset):
    """The image moved by a small homography (about its centre), blurred, and changed in gain and offset."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle_deg, scale)
    m[:, 2] += shift
    homography = np.vstack([m, [1e-6, -2e-6, 1]])
    out = cv2.warpPerspective(img.astype(np.float32), homography, (w, h), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REFLECT)
    if sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return np.clip(out * gain + offset, 0, 1)


def write(path, img, bits):
    top = 2 ** bits - 1
    data = np.round(np.clip(img, 0, 1) * top).astype(np.uint8 if bits == 8 else np.uint16)
    cv2.imwrite(path, data[..., ::-1])


def pooled_pairs(args):
    """Writes the "pooled" pairs and lists them in expected.json (the rest of the file is kept)."""
    import_scoring_tools()
    path = os.path.join(args.out, "expected.json")
    with open(path) as f:
        expected = json.load(f)
    # name, scene seed, width, height, shift, rotation (degrees), scale, blur sigma, gain, offset
    cases = [
        ("pool2", 5, 403, 385, (0.6, -0.4), 0.15, 1.0, 1.2, 0.97, 0.01),
        ("pooltie", 6, 700, 640, (-0.8, 0.5), -0.2, 1.002, 1.6, 1.04, -0.015),
        ("pool3", 7, 643, 641, (1.0, 0.3), 0.1, 1.0, 0.9, 0.95, 0.02),
    ]
    expected["pooled"] = []
    for name, seed, w, h, shift, angle, scale, sigma, gain, offset in cases:
        gt = np.round(scene(np.random.default_rng(seed), w, h) * 16) / 16
        restored = np.round(distort(gt, shift, angle, scale, sigma, gain, offset) * 32) / 32
        write(f"{args.out}/{name}_output8.png", restored, 8)
        write(f"{args.out}/{name}_target8.png", gt, 8)
        expected["pooled"].append({"name": name, "width": w, "height": h})
    with open(path, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ifan")
    parser.add_argument("--dpdnet")
    parser.add_argument("--realblur")
    parser.add_argument("--basicsr")
    parser.add_argument("--pyiqa", help="an IQA-PyTorch checkout; alone, scores the existing PNGs into expected.json")
    parser.add_argument("--pyiqa-revision", help="the checkout's commit, recorded in expected.json")
    parser.add_argument("--pooled", action="store_true", help="write the pooled pairs (then run --pyiqa alone)")
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    if args.pooled:
        return pooled_pairs(args)
    four = [args.ifan, args.dpdnet, args.realblur, args.basicsr]
    if args.pyiqa and not any(four):
        return pyiqa_only(args)
    if not all(four):
        parser.error("--ifan, --dpdnet, --realblur and --basicsr are all needed (or --pyiqa alone)")
    import_scoring_tools()

    sys.path.insert(0, args.ifan)
    ifan = load(os.path.join(args.ifan, "eval.py"), "ifan_eval",
                stubs=["torch", "torchvision", "torchvision.utils", "torch.nn", "torch.nn.functional", "utils",
                       "ckpt_manager", "models", "models.archs", "models.archs.LPIPS"])
    ifan.structural_similarity = ssim_with_multichannel
    ifan_data = load(os.path.join(args.ifan, "data_loader", "utils.py"), "ifan_data")

    # DPDNet's metrics.py takes numpy, math, skimage's measure and scikit-learn's MAE from its config module,
    # which also sets up TensorFlow training paths: a config with just those names stands in for it.
    config = types.ModuleType("config")
    config.np, config.math, config.mean_absolute_error = np, math, mean_absolute_error
    config.measure = types.SimpleNamespace(compare_ssim=ssim_with_multichannel)
    sys.modules["config"] = config
    dpdnet = load(os.path.join(args.dpdnet, "DPDNet", "metrics.py"), "dpdnet_metrics")

    saved_argv = sys.argv
    sys.argv = ["evaluation_RealBlur_ecc.py"]
    realblur = load(os.path.join(args.realblur, "evaluation_RealBlur_ecc.py"), "realblur_eval")
    sys.argv = saved_argv
    realblur.structural_similarity = ssim_with_multichannel
    basicsr = load_basicsr(args.basicsr)
    # Last: pyiqa imports the real torch, which the scripts above are given stand-ins for while they are imported.
    pyiqa = load_pyiqa(args.pyiqa) if args.pyiqa else None

    # name, scene seed, width, height, shift, rotation (degrees), scale, blur sigma, gain, offset. The seeds are
    # ones whose pairs ECC aligns the same from nearby starts (see the check below); many others do not.
    cases = [
        ("small", 3, 144, 96, (0.5, -0.3), 0.1, 1.0, 0.8, 0.95, 0.01),
        ("odd", 2, 123, 77, (-0.9, 0.7), -0.25, 1.003, 1.5, 1.06, -0.02),
        ("wide", 3, 200, 136, (1.1, 0.4), 0.2, 1.0, 0.8, 0.95, 0.02),
    ]
    expected = {"made_with": {"python": sys.version.split()[0], "numpy": np.__version__,
                              "opencv": cv2.__version__, "scikit-image": skimage.__version__},
                "pairs": []}
    if pyiqa:
        expected["made_with"].update(pyiqa_versions(args))
    out = args.out
    for name, seed, w, h, shift, angle, scale, sigma, gain, offset in cases:
        gt = scene(np.random.default_rng(seed), w, h)
        restored = distort(gt, shift, angle, scale, sigma, gain, offset)
        blurred = distort(gt, (0, 0), 0, 1, 2.5, 1, 0)
        entry = {"name": name, "width": w, "height": h}

        # ifan: 8-bit files read and cropped by IFAN's own loader, scored by eval.py's functions.
        write(f"{out}/{name}_output8.png", restored, 8)
        write(f"{out}/{name}_target8.png", gt, 8)
        o = ifan_data.refine_image(ifan_data.read_frame(f"{out}/{name}_output8.png"), 8)[0]
        t = ifan_data.refine_image(ifan_data.read_frame(f"{out}/{name}_target8.png"), 8)[0]
        entry["ifan"] = {"psnr": ifan.psnr(o, t), "ssim": float(ifan.ssim(o, t)), "mae": float(ifan.mae(o, t))}

        # dpdd: 16-bit files read as DPDNet's loader does (cv2.imread(path, -1) / 65535), metrics.py's functions.
        write(f"{out}/{name}_output16.png", restored, 16)
        write(f"{out}/{name}_target16.png", gt, 16)
        o = cv2.imread(f"{out}/{name}_output16.png", -1) / 65535
        t = cv2.imread(f"{out}/{name}_target16.png", -1) / 65535
        _, psnr, ssim = dpdnet.MSE_PSNR_SSIM(t.astype(np.float64), o.astype(np.float64))
        entry["dpdd"] = {"psnr": psnr, "ssim": float(ssim), "mae": float(dpdnet.MAE(t.astype(np.float64), o.astype(np.float64)))}

        # realblur: the script's own evaluation_folder on its folder layout (scene/gt, scene/blur, results).
        write(f"{out}/{name}_input8.png", blurred, 8)
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "results", "method")
            os.makedirs(model)
            os.makedirs(os.path.join(tmp, "gt_root", "scene000", "gt"))
            os.makedirs(os.path.join(tmp, "gt_root", "scene000", "blur"))
            cv2.imwrite(os.path.join(model, "scene000_1.png"), cv2.imread(f"{out}/{name}_output8.png"))
            cv2.imwrite(os.path.join(tmp, "gt_root", "scene000", "gt", "gt_1.png"), cv2.imread(f"{out}/{name}_target8.png"))
            cv2.imwrite(os.path.join(tmp, "gt_root", "scene000", "blur", "blur_1.png"), cv2.imread(f"{out}/{name}_input8.png"))
            os.makedirs(os.path.join(tmp, "out"))
            realblur.evaluation_folder((model, os.path.join(tmp, "gt_root"), os.path.join(tmp, "out")))
            with open(os.path.join(tmp, "out", "method", "psnr.txt")) as f:
                _, psnr, ssim = f.read().split()
            with open(os.path.join(tmp, "out", "method", "result.txt")) as f:
                result = dict(line.split(" : ") for line in f.read().strip().split("\n"))
            # Full precision from the same functions the script calls, beside its 5-decimal printout.
            x = realblur.io.imread(f"{out}/{name}_target8.png").astype("float32") / 255
            z = realblur.io.imread(f"{out}/{name}_output8.png").astype("float32") / 255
            _, _, _, shift_found = realblur.image_align(z, x)
            # ECC with eps 0 runs all 100 iterations. On some pairs its iteration does not settle (it oscillates
            # between two basins), and then a start 1e-4 px away ends elsewhere: only OpenCV's exact float
            # arithmetic could reproduce that result, so such a pair is no fixture. Each must be insensitive.
            zs = (np.sum(x * z) / np.sum(z * z)) * z
            corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], dtype=float).T
            def project(m):
                p = np.asarray(m, dtype=float) @ corners
                return p[:2] / p[2]
            for nudge in (1e-4, -1e-4, 3e-4):
                start = np.eye(3, 3, dtype=np.float32)
                start[0, 2] += nudge
                start[1, 2] -= nudge
                moved = cv2.findTransformECC(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.cvtColor(zs, cv2.COLOR_RGB2GRAY),
                                             start, cv2.MOTION_HOMOGRAPHY,
                                             (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 0), None, 5)[1]
                drift = np.abs(project(shift_found) - project(moved)).max()
                assert drift < 1e-3, f"{name}: ECC's result moves {drift} px when its start moves {nudge} px"
        # basicsr-y: the 8-bit files as BasicSR's scripts read them (cv2.imread, BGR, uint8), test_y_channel.
        o = cv2.imread(f"{out}/{name}_output8.png")
        t = cv2.imread(f"{out}/{name}_target8.png")
        entry["basicsr-y"] = {
            "psnr": float(basicsr.calculate_psnr(o, t, crop_border=0, test_y_channel=True)),
            "ssim": float(basicsr.calculate_ssim(o, t, crop_border=0, test_y_channel=True))}
        # pyiqa-y: IQA-PyTorch's psnry and ssim metrics on the 8-bit files as its imread2tensor reads them.
        if pyiqa:
            entry["pyiqa-y"] = score_pyiqa(pyiqa, f"{out}/{name}_output8.png", f"{out}/{name}_target8.png")

        entry["realblur"] = {"psnr": float(psnr), "ssim": float(ssim), "input_psnr": float(result["blur_psnr"]),
                             "homography": np.asarray(shift_found, dtype=float).reshape(-1).tolist()}
        expected["pairs"].append(entry)
        print(name, json.dumps(entry))
    with open(f"{out}/expected.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
