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
    }

    /// The LPIPS rigctl computes: version v0.1, AlexNet backbone with the learned linear layers.
    public static let lpipsV01Alex = "v0.1 alex"

    public var framing: Framing
    /// Bits per sample of the compared images (the pair's stored target; outputs are quantised to it first).
    /// 0 where it is not known (rows carried forward from a catalogue that did not record the image format).
    public var bitDepth: Int
    public var ssim: SSIMConvention
    /// LPIPS version and backbone, e.g. "v0.1 alex"; nil when the row has no LPIPS score.
    public var lpips: String?
    /// The rigctl release that computed the row; "before 0.1.0 v4" style text for rows carried forward.
    public var rigctlVersion: String

    public init(framing: Framing, bitDepth: Int, ssim: SSIMConvention = .skimageUniform7, lpips: String?,
                rigctlVersion: String = RigctlRelease.number) {
        self.framing = framing
        self.bitDepth = bitDepth
        self.ssim = ssim
        self.lpips = lpips
        self.rigctlVersion = rigctlVersion
    }

    /// What makes two rows of one pair and model different rows: framing, bit depth and SSIM convention. LPIPS
    /// and the rigctl release are recorded with the row but do not split it, so that a row scored before the
    /// LPIPS weights were installed is completed in place rather than duplicated.
    public var identity: Identity { Identity(framing: framing, bitDepth: bitDepth, ssim: ssim) }

    public struct Identity: Sendable, Codable, Hashable {
        public var framing: Framing
        public var bitDepth: Int
        public var ssim: SSIMConvention
    }

    /// One line for tables and reports, e.g. "whole image, 16-bit, SSIM skimage-uniform-7x7, LPIPS v0.1 alex".
    public var description: String {
        let frame = framing == .whole ? "whole image" : "cropped to multiples of 8"
        let depth = bitDepth > 0 ? "\(bitDepth)-bit" : "bit depth unknown"
        return "\(frame), \(depth), SSIM \(ssim.rawValue), LPIPS \(lpips ?? "none"), rigctl \(rigctlVersion)"
    }
}
