import Foundation
import Metrics
import NeuralCore
import Testing

/// The SSIM kernel (`ck_ssim_rows`) at every instruction set this CPU runs, against the naive Swift reference
/// (`PixelMetrics.referenceStructuralSimilarity`): both windows, sample and population covariance, with and without
/// a mask, one and three channels, on sizes that leave partial strips and bands. They differ only in rounding
/// (fused multiply-adds, the order of the vector sums).
@Suite struct SSIMKernelTests {
    static func planes(_ count: Int, seed: UInt64) -> [Double] {
        var state = seed
        return (0..<count).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Double(state >> 11) / Double(1 << 53)
            return min(1, max(0, 0.5 + 0.3 * sin(Double(i) * 0.013) + 0.25 * (noise - 0.5)))
        }
    }

    @Test func everyInstructionSetMatchesTheReference() throws {
        let levels = KernelLevel.allCases.filter { $0 <= Kernels.choice.level }
        #expect(levels.first == .baseline)
        let uniform = [Double](repeating: 1.0 / 7, count: 7)
        let gaussian = PixelMetrics.gaussianWindow
        // 300 columns: four full 64-column strips and a partial one; 140 rows: a full 128-row band and a partial one.
        for (w, h, channels) in [(300, 140, 3), (11, 11, 1), (37, 19, 1), (513, 30, 3)] {
            let a = Self.planes(channels * w * h, seed: 1), b = Self.planes(channels * w * h, seed: 2)
            let mask = Self.planes(w * h, seed: 3).map { $0 > 0.4 ? 1.0 : 0.25 }
            for (window, sample) in [(uniform, true), (gaussian, false)] where w >= window.count && h >= window.count {
                for m in [nil, mask] {
                    for range in [1.0, 255.0] {
                        let scale = range
                        let (sa, sb) = (a.map { $0 * scale }, b.map { $0 * scale })
                        let reference = try PixelMetrics.referenceStructuralSimilarity(
                            sa, sb, width: w, height: h, channels: channels, window: window, sampleCovariance: sample,
                            name: "SSIM", mask: m, range: range)
                        for level in levels {
                            let fast = try PixelMetrics.structuralSimilarity(
                                sa, sb, width: w, height: h, channels: channels, window: window,
                                sampleCovariance: sample, name: "SSIM", mask: m, range: range, level: level)
                            #expect(abs(fast - reference) < 1e-13,
                                    "\(level) \(w)x\(h)x\(channels) k \(window.count) mask \(m != nil): \(fast) vs \(reference)")
                        }
                    }
                }
            }
        }
    }

    /// Identical images score exactly 1 up to rounding at every level, and a too-small image is refused.
    @Test func identicalAndTooSmall() throws {
        let a = Self.planes(3 * 40 * 30, seed: 5)
        for level in KernelLevel.allCases where level <= Kernels.choice.level {
            let s = try PixelMetrics.structuralSimilarity(a, a, width: 40, height: 30, channels: 3,
                                                          window: PixelMetrics.gaussianWindow,
                                                          sampleCovariance: false, name: "SSIM", level: level)
            #expect(abs(s - 1) < 1e-14)
            #expect(throws: MetricsError.self) {
                try PixelMetrics.structuralSimilarity(a, a, width: 10, height: 360, channels: 1,
                                                      window: PixelMetrics.gaussianWindow,
                                                      sampleCovariance: false, name: "SSIM", level: level)
            }
        }
    }
}
