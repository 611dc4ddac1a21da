import Foundation

/// The release of rigctl, recorded with every score so that a number can be traced to the code that computed it.
/// The command line's `--version` prints it too.
public enum RigctlRelease {
    public static let number = "0.1.0"
}

/// How a score was computed. Two scores of one pair and one model are comparable only under the same protocol, so
/// the catalogue keeps one row per protocol instead of overwriting (see `identity`).
public struct ScoreProtocol: Sendable, Codable, Hashable, CustomStringConvertible {
    /// Which pixels are compared.
    public enum Framing: String, Sendable, Codable, CaseIterable {
        /// The whole image, as the capture pipeline scores it (IFAN pads its input to a multiple of 8 internally
        /// and crops its output back, so the output has the pair's size).
        case whole
        /// Bottom rows and right columns beyond a multiple of 8 dropped first, as the IFAN paper's evaluation does.
        case cropToMultipleOf8 = "crop-8"
    }

    /// The convention of the `ssim` column. (`ssimGaussian` is always Wang et al.'s 11x11 Gaussian, sigma 1.5.)
    public enum SSIMConvention: String, Sendable, Codable, CaseIterable {
        /// scikit-image's `structural_similarity` defaults: uniform 7x7 window, sample covariance, as DPDD/IFAN.
        case skimageUniform7 = "skimage-uniform-7x7"
        /// Wang et al. 2004 / RealBlur: 11x11 Gaussian window, sigma 1.5.
        case gaussian11 = "gaussian-11x11"
        /// The same window after the automatic downsampling of Wang's MATLAB `ssim.m`, as IQA-PyTorch's
        /// `downsample=True` does it: f = round(min(height, width) / 256), halves to even (Python's `round`);
        /// when f > 1, each f x f block averaged, rows and columns that do not fill a block dropped
        /// (`avg_pool2d(kernel_size=f)`). Wang's `ssim.m` itself filters with reflected borders and keeps a
        /// partial last block, so the two differ slightly (docs/metrics.md).
        case gaussian11Downsampled = "gaussian-11x11-downsampled"
    }

    /// Which channels PSNR and SSIM compare.
    public enum Channels: String, Sendable, Codable, CaseIterable {
        /// R, G and B, each scored and the scores averaged (SSIM) or pooled (PSNR).
        case rgb
        /// The luma of ITU-R BT.601 YCbCr (Y = 16 + 65.481 R + 128.553 G + 24.966 B, on the 0-255 scale), as
        /// super-resolution and restoration code (BasicSR, MATLAB's rgb2ycbcr) scores with `test_y_channel`.
        case lumaBT601 = "y-bt601"
        /// The luma of YIQ (Y = 0.299 R + 0.587 G + 0.114 B, no offset), as IQA-PyTorch (pyiqa) scores with
        /// `test_y_channel` in its default `color_space='yiq'`: PSNR on Y in [0, 1] unrounded, SSIM on Y * 255
        /// rounded to integers (the `pyiqa-y` protocol says exactly how).
        case lumaYIQ = "y-yiq"
    }

    /// How a method's output is held when it is compared.
    public enum Outputs: String, Sendable, Codable, CaseIterable {
        /// Rounded to the target's bit depth first, so that what is scored is exactly what is stored (the catalogue).
        case quantised
        /// As the method produced it (floating point), as IFAN's eval.py scores the network's output (folder sets).
        case asProduced = "as-produced"
    }

    /// The LPIPS rigctl computes: version v0.1, AlexNet backbone with the learned linear layers.
    public static let lpipsV01Alex = "v0.1 alex"

    public var framing: Framing
    /// Bits per sample of the compared images (the pair's stored target; outputs are quantised to it first).
    /// 0 where it is not known (rows carried forward from a catalogue that did not record the image format).
    public var bitDepth: Int
    public var ssim: SSIMConvention
    /// What PSNR and SSIM compare; MAE and LPIPS always compare R, G and B.
    public var channels: Channels
    /// Catalogue rows are always `.quantised` (their outputs are stored), so it is not part of `identity`.
    public var outputs: Outputs
    /// LPIPS version and backbone, e.g. "v0.1 alex"; nil when the row has no LPIPS score.
    public var lpips: String?
    /// The rigctl release that computed the row; "before 0.1.0 v4" style text for rows carried forward.
    public var rigctlVersion: String

    public init(framing: Framing, bitDepth: Int, ssim: SSIMConvention = .skimageUniform7, channels: Channels = .rgb,
                outputs: Outputs = .quantised, lpips: String?, rigctlVersion: String = RigctlRelease.number) {
        self.framing = framing
        self.bitDepth = bitDepth
        self.ssim = ssim
        self.channels = channels
        self.outputs = outputs
        self.lpips = lpips
        self.rigctlVersion = rigctlVersion
    }

    /// What makes two rows of one pair and model different rows: framing, bit depth, SSIM convention and channels. LPIPS
    /// and the rigctl release are recorded with the row but do not split it, so that a row scored before the
    /// LPIPS weights were installed is completed in place rather than duplicated.
    public var identity: Identity { Identity(framing: framing, bitDepth: bitDepth, ssim: ssim, channels: channels) }

    public struct Identity: Sendable, Codable, Hashable {
        public var framing: Framing
        public var bitDepth: Int
        public var ssim: SSIMConvention
        public var channels: Channels
    }

    /// One line for tables and reports, e.g. "whole image, 16-bit, SSIM skimage-uniform-7x7, LPIPS v0.1 alex, rigctl
    /// 0.1.0"; outputs held as produced add "outputs as produced" after the bit depth, and luma scores "PSNR and
    /// SSIM on Y (BT.601)" after that. `init(described:)` reads it back.
    public var description: String {
        let frame = framing == .whole ? "whole image" : "cropped to multiples of 8"
        let depth = bitDepth > 0 ? "\(bitDepth)-bit" : "bit depth unknown"
        let held = outputs == .asProduced ? ", outputs as produced" : ""
        let luma = Self.phrase(channels).map { ", \($0)" } ?? ""
        return "\(frame), \(depth)\(held)\(luma), SSIM \(ssim.rawValue), LPIPS \(lpips ?? "none"), rigctl \(rigctlVersion)"
    }

    /// How `description` names channels other than R, G, B.
    static func phrase(_ channels: Channels) -> String? {
        switch channels {
        case .rgb: nil
        case .lumaBT601: "PSNR and SSIM on Y (BT.601)"
        case .lumaYIQ: "PSNR and SSIM on Y (YIQ)"
        }
    }

    /// The protocol a `description` names (reports and score files carry the line); nil for any other text.
    public init?(described text: String) {
        var parts = text.components(separatedBy: ", ")
        guard parts.count >= 5 else { return nil }
        switch parts.removeFirst() {
        case "whole image": framing = .whole
        case "cropped to multiples of 8": framing = .cropToMultipleOf8
        default: return nil
        }
        let depth = parts.removeFirst()
        if depth == "bit depth unknown" {
            bitDepth = 0
        } else if depth.hasSuffix("-bit"), let bits = Int(depth.dropLast(4)), bits > 0 {
            bitDepth = bits
        } else {
            return nil
        }
        outputs = parts.first == "outputs as produced" ? .asProduced : .quantised
        if outputs == .asProduced { parts.removeFirst() }
        channels = Channels.allCases.first { $0 != .rgb && parts.first == Self.phrase($0) } ?? .rgb
        if channels != .rgb { parts.removeFirst() }
        guard parts.count >= 3, parts[0].hasPrefix("SSIM "),
              let ssim = SSIMConvention(rawValue: String(parts[0].dropFirst(5))),
              parts[1].hasPrefix("LPIPS "), parts[2].hasPrefix("rigctl ") else { return nil }
        self.ssim = ssim
        let lpips = String(parts[1].dropFirst(6))
        self.lpips = lpips == "none" ? nil : lpips
        // A release text may itself hold ", " (rows carried forward say so): the rest of the line is the release.
        rigctlVersion = String(parts[2...].joined(separator: ", ").dropFirst(7))
    }

    enum CodingKeys: String, CodingKey {
        case framing, bitDepth, ssim, channels, outputs, lpips, rigctlVersion
    }

    /// `outputs` and `channels` are written only when they are not `.quantised` and `.rgb`, so stored and printed
    /// protocols read as they did before those existed.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        framing = try c.decode(Framing.self, forKey: .framing)
        bitDepth = try c.decode(Int.self, forKey: .bitDepth)
        ssim = try c.decode(SSIMConvention.self, forKey: .ssim)
        channels = try c.decodeIfPresent(Channels.self, forKey: .channels) ?? .rgb
        outputs = try c.decodeIfPresent(Outputs.self, forKey: .outputs) ?? .quantised
        lpips = try c.decodeIfPresent(String.self, forKey: .lpips)
        rigctlVersion = try c.decode(String.self, forKey: .rigctlVersion)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(framing, forKey: .framing)
        try c.encode(bitDepth, forKey: .bitDepth)
        try c.encode(ssim, forKey: .ssim)
        if channels != .rgb { try c.encode(channels, forKey: .channels) }
        if outputs != .quantised { try c.encode(outputs, forKey: .outputs) }
        try c.encodeIfPresent(lpips, forKey: .lpips)
        try c.encode(rigctlVersion, forKey: .rigctlVersion)
    }
}

/// A published evaluation protocol by name: how the papers a lab compares against compute their tables. Each is
/// reproduced step for step (the parity fixtures in Tests/EvaluationTests/Fixtures/protocols were made by running
/// the official code) and recorded with the scores it produced.
public enum EvaluationProtocol: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// IFAN's eval.py (Lee et al., CVPR 2021): images read / 255 (8-bit) and cropped bottom/right to multiples of
    /// 8, the network's output scored as produced; PSNR with peak 1, SSIM scikit-image's defaults (uniform 7x7,
    /// sample covariance, data range 1), MAE per channel then averaged.
    case ifan
    /// DPDNet's metrics.py (Abuolaim & Brown, ECCV 2020, the DPDD set): images read / 65535 (16-bit), the whole
    /// image, the prediction scored as produced; PSNR with peak 1, SSIM as `compare_ssim(..., data_range=1,
    /// multichannel=True)` (uniform 7x7), MAE per channel then averaged.
    case dpdd
    /// RealBlur's evaluation_RealBlur_ecc.py (Rim et al., ECCV 2020): images read / 255 (8-bit), the output
    /// gain-matched and aligned to the ground truth by an ECC homography, then PSNR over the valid region and
    /// Gaussian SSIM (sigma 1.5, population covariance) weighted by it. The input is scored without alignment,
    /// as the script does.
    case realblur
    /// BasicSR's `calculate_psnr` and `calculate_ssim` with `test_y_channel=True` and `crop_border=0` (Wang et al.,
    /// the MATLAB convention restoration papers print): images read / 255 (8-bit), the whole image, the output
    /// scored as produced; PSNR and SSIM on the BT.601 luma in [0, 255] held as BasicSR holds it (float32), SSIM
    /// with the 11x11 Gaussian window (sigma 1.5, population covariance) over the positions where it fits. BasicSR
    /// computes neither MAE nor LPIPS: those columns are rigctl's, on R, G and B.
    case basicsrY = "basicsr-y"
    /// IQA-PyTorch's (pyiqa's) `psnry` and `ssim` metrics as its default_model_configs.py defines them
    /// (`test_y_channel=True`, `color_space='yiq'`, `downsample=False`, `crop_border=0`): images read / 255
    /// (8-bit), the whole image, the output scored as produced. PSNR on the YIQ luma in [0, 1], computed in
    /// float32 and not rounded, 10 log10(1 / (MSE + 1e-8)); SSIM on that luma * 255 rounded to integers, the 11x11
    /// Gaussian window (sigma 1.5, population covariance, constants for a range of 255) over the positions where
    /// it fits, its contrast-structure term clamped at 0 (pyiqa's ReLU), no MATLAB-style downsampling. pyiqa's
    /// metrics have neither MAE nor LPIPS on this path: those columns are rigctl's, on R, G and B.
    case pyiqaY = "pyiqa-y"
    /// The same as `pyiqa-y` with IQA-PyTorch's MATLAB-style downsampling on (`SSIM(test_y_channel=True,
    /// downsample=True)`; IQA-PyTorch #257): before SSIM, both luma planes (* 255, rounded) are average-pooled by
    /// f = round(min(H, W) / 256) (halves to even), the blocks that do not fit dropped. PSNR is `psnry`'s, which
    /// does not downsample. Images whose shorter side is under 384 pixels score as under `pyiqa-y`.
    case pyiqaYDownsample = "pyiqa-y-downsample"

    /// Which pixels the protocol compares.
    public var framing: ScoreProtocol.Framing {
        switch self {
        case .ifan: .cropToMultipleOf8
        case .dpdd, .realblur, .basicsrY, .pyiqaY, .pyiqaYDownsample: .whole
        }
    }

    /// The SSIM convention of its `ssim` column.
    public var ssim: ScoreProtocol.SSIMConvention {
        switch self {
        case .ifan, .dpdd: .skimageUniform7
        case .realblur, .basicsrY, .pyiqaY: .gaussian11
        case .pyiqaYDownsample: .gaussian11Downsampled
        }
    }

    /// What its PSNR and SSIM compare.
    public var channels: ScoreProtocol.Channels {
        switch self {
        case .ifan, .dpdd, .realblur: .rgb
        case .basicsrY: .lumaBT601
        case .pyiqaY, .pyiqaYDownsample: .lumaYIQ
        }
    }

    /// Whether a method's output is aligned to the ground truth before it is scored.
    public var alignsOutputs: Bool { self == .realblur }

    /// The official code it reproduces.
    public var reference: String {
        switch self {
        case .ifan: "github.com/codeslake/IFAN eval.py"
        case .dpdd: "github.com/Abdullah-Abuolaim/defocus-deblurring-dual-pixel DPDNet/metrics.py"
        case .realblur: "github.com/rimchang/RealBlur evaluation_RealBlur_ecc.py"
        case .basicsrY: "github.com/XPixelGroup/BasicSR basicsr/metrics/psnr_ssim.py (test_y_channel=True, crop_border=0)"
        case .pyiqaY: "github.com/chaofengc/IQA-PyTorch pyiqa/archs/psnr_arch.py and ssim_arch.py (metrics psnry and ssim: test_y_channel=True, color_space='yiq', downsample=False)"
        case .pyiqaYDownsample: "github.com/chaofengc/IQA-PyTorch pyiqa/archs/psnr_arch.py and ssim_arch.py (metrics psnry and ssim with downsample=True: test_y_channel=True, color_space='yiq')"
        }
    }

    public var description: String { rawValue }

    /// Names separated by commas ("ifan,dpdd"), each known, none twice; nil with the unknown name otherwise.
    public static func list(_ text: String) -> Result<[EvaluationProtocol], ProtocolListError> {
        var names: [EvaluationProtocol] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let known = EvaluationProtocol(rawValue: name) else { return .failure(.unknown(name)) }
            guard !names.contains(known) else { return .failure(.repeated(name)) }
            names.append(known)
        }
        return .success(names)
    }
}

/// Why a `--protocol` list was refused.
public enum ProtocolListError: Error, Equatable, CustomStringConvertible {
    case unknown(String)
    case repeated(String)

    public var description: String {
        let known = EvaluationProtocol.allCases.map(\.rawValue).joined(separator: ", ")
        switch self {
        case .unknown(let name): return "no evaluation protocol '\(name)' (known: \(known))"
        case .repeated(let name): return "protocol '\(name)' is given twice"
        }
    }
}

extension ScoreProtocol {
    /// The published protocol whose conventions these scores follow (framing, SSIM and channels; the bit depth is
    /// the files' own, and how outputs were held is in `outputs`), or nil when none does.
    public var named: EvaluationProtocol? {
        EvaluationProtocol.allCases.first { $0.framing == framing && $0.ssim == ssim && $0.channels == channels }
    }
}
