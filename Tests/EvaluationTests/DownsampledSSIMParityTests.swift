import Evaluation
import Foundation
import Metrics
import PairVocabulary
import Testing

/// `pyiqa-y-downsample` against IQA-PyTorch's own `psnry` and `ssim(downsample=True)` on the parity fixtures: the
/// three small pairs (too small to pool: the same numbers as `pyiqa-y`) and the three "pooled" ones, large enough
/// that the MATLAB-style average pooling runs (factors 2, 2 at the 640-pixel tie, and 3, at sizes that leave rows
/// and columns outside the last block). The fixtures are in the repository, so a missing one fails.
@Suite struct DownsampledSSIMParityTests {
    struct Expected: Decodable {
        typealias Luma = ProtocolParityTests.Expected.Luma
        struct Pair: Decodable {
            var name: String; var width: Int; var height: Int; var pyiqaY: Luma; var pooled: Luma
            enum CodingKeys: String, CodingKey {
                case name, width, height, pyiqaY = "pyiqa-y", pooled = "pyiqa-y-downsample"
            }
        }
        var pairs: [Pair]
        var pooled: [Pair]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: ProtocolParityTests.folder
            .appendingPathComponent("expected.json")))
    }

    /// Within 1e-4 dB and 1e-5 of IQA-PyTorch, as `pyiqa-y` (the pooled means are exact: integer sums over f*f).
    @Test func reproducesIQAPyTorchsDownsampledSSIM() throws {
        let expected = try Self.expected()
        #expect(expected.pooled.map(\.name) == ["pool2", "pooltie", "pool3"])
        #expect(expected.pooled.map { PixelMetrics.iqaPyTorchDownsamplingFactor(width: $0.width, height: $0.height) }
                == [2, 2, 3])
        #expect(expected.pooled.allSatisfy { $0.width % 2 == 1 || $0.height % 3 != 0 }, "sizes with a partial block")
        for pair in expected.pairs + expected.pooled {
            let ours = try ProtocolParityTests.expectLuma(pair.name, .pyiqaYDownsample, official: pair.pooled,
                                                          psnrWithin: 1e-4, ssimWithin: 1e-5)
            // Without the pooling, rigctl's pyiqa-y gives pyiqa's default ssim: the two differ exactly where
            // IQA-PyTorch's do (by 0.03 - 0.07 on the pooled pairs; not at all on the small ones).
            let plain = try ProtocolParityTests.score(pair.name, bits: 8, .pyiqaY)
            #expect(abs(plain.ssim - pair.pyiqaY.ssim) < 1e-5, "\(pair.name)")
            #expect(plain.psnr == ours.psnr, "PSNR is not downsampled")
            if expected.pooled.contains(where: { $0.name == pair.name }) {
                #expect(ours.ssim - plain.ssim > 0.02, "\(pair.name): \(ours.ssim) vs \(plain.ssim)")
            } else {
                #expect(ours.ssim == plain.ssim, "\(pair.name)")
            }
        }
    }

    /// The factor is Python's round of min(H, W) / 256 (IQA-PyTorch's `round`): halves go to even, so 640 pixels
    /// pool by 2 (MATLAB's `round` in Wang's ssim.m would take 3) and 1152 by 4. Reference values from Python 3.
    @Test func theFactorRoundsHalvesToEven() {
        let sides = [100, 128, 383, 384, 640, 641, 896, 1120, 1152, 4000]
        #expect(sides.map { PixelMetrics.iqaPyTorchDownsamplingFactor(width: 5000, height: $0) }
                == [1, 1, 1, 2, 2, 3, 4, 4, 4, 16])
        #expect(PixelMetrics.iqaPyTorchDownsamplingFactor(width: 640, height: 1000) == 2, "the shorter side")
    }

    /// The protocol's name, its catalogue identity and its description line are its own: it is not `pyiqa-y`.
    @Test func itIsAProtocolOfItsOwn() throws {
        let described = PairScoring(.pyiqaYDownsample, lpips: nil).scoreProtocol(bitDepth: 8)
        #expect(described.named == .pyiqaYDownsample && described.channels == .lumaYIQ)
        #expect(described.ssim == .gaussian11Downsampled)
        #expect(described.identity != PairScoring(.pyiqaY, lpips: nil).scoreProtocol(bitDepth: 8).identity)
        #expect(ScoreProtocol(described: described.description) == described)
        #expect(described.description.contains("SSIM gaussian-11x11-downsampled"))
        #expect(try EvaluationProtocol.list("pyiqa-y,pyiqa-y-downsample").get() == [.pyiqaY, .pyiqaYDownsample])
    }
}
