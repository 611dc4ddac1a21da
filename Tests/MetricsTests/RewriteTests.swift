import Foundation
import Metrics
import NeuralCore
import Testing

/// Seeded values in [-scale, scale).
func seededTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var state = seed
    let data = (0..<shape.reduce(1, *)).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    return Tensor(shape: shape, data: data)
}

struct RewriteCase: Sendable, CustomStringConvertible {
    let inChannels, outChannels, kernel, stride, padding, height, width: Int
    var description: String { "\(inChannels)->\(outChannels) k\(kernel) s\(stride) p\(padding) \(width)x\(height)" }
}

/// AlexNet's first two layers (11x11 stride 4 padding 2; 5x5 padding 2), a 7x7 (three pieces a side) and other
/// strides, on odd sizes, against the plain double-precision definition.
@Test(arguments: [
    RewriteCase(inChannels: 3, outChannels: 16, kernel: 11, stride: 4, padding: 2, height: 37, width: 45),
    RewriteCase(inChannels: 3, outChannels: 8, kernel: 11, stride: 4, padding: 2, height: 31, width: 34),
    RewriteCase(inChannels: 12, outChannels: 20, kernel: 5, stride: 1, padding: 2, height: 13, width: 22),
    RewriteCase(inChannels: 9, outChannels: 7, kernel: 7, stride: 1, padding: 3, height: 11, width: 9),
    RewriteCase(inChannels: 9, outChannels: 7, kernel: 5, stride: 1, padding: 0, height: 12, width: 17),
    RewriteCase(inChannels: 4, outChannels: 9, kernel: 5, stride: 2, padding: 2, height: 15, width: 19),
    RewriteCase(inChannels: 4, outChannels: 9, kernel: 7, stride: 3, padding: 1, height: 20, width: 16),
])
func threeByThreeRewriteMatchesDefinition(_ t: RewriteCase) throws {
    let x = seededTensor([t.inChannels, t.height, t.width], seed: 7)
    let w = seededTensor([t.outChannels, t.inChannels, t.kernel, t.kernel], seed: 11, scale: 0.2)
    let b = seededTensor([t.outChannels], seed: 13, scale: 0.1)
    let rewrite = try #require(try ThreeByThreeRewrite(weight: w, bias: b, stride: t.stride, padding: t.padding,
                                                        activation: .relu))
    let expected = ReferenceLayers.conv2d(x, weight: w, bias: b, stride: t.stride, padding: t.padding, activation: .relu)
    let got = try rewrite(x)
    #expect(got.shape == expected.shape)
    let largest = expected.data.map(abs).max() ?? 1
    let worst = zip(got.data, expected.data).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-5 * largest, "\(t): \(worst) of \(largest)")
    #expect(expected.data.contains(0) && expected.data.contains { $0 > 0 }, "the ReLU is exercised")
}

/// Layers that need no rewrite, or that it cannot express, are left alone.
@Test func rewriteOnlyWhereItApplies() throws {
    let w3 = seededTensor([4, 4, 3, 3], seed: 1), w11 = seededTensor([4, 3, 11, 11], seed: 2)
    #expect(try ThreeByThreeRewrite(weight: w3, bias: nil, stride: 1, padding: 1, activation: .none) == nil)
    #expect(try ThreeByThreeRewrite(weight: w11, bias: nil, stride: 2, padding: 2, activation: .none) == nil)
    #expect(try ThreeByThreeRewrite(weight: w11, bias: nil, stride: 4, padding: 2, activation: .none)?.form == .strided(stride: 4))
    #expect(try ThreeByThreeRewrite(weight: w11, bias: nil, stride: 1, padding: 5, activation: .none)?.form == .split(pieces: 4))
}

/// LPIPS through the rewritten layers gives the distance of the layers as they are, on the fixture pairs.
@Test func lpipsRewriteKeepsTheDistance() throws {
    let lin = try TorchCheckpoint.read(metricsFixture("lpips_v0.1_alex_lin.pth"))
    let backbone = try TorchCheckpoint.read(metricsFixture("alexnet_random_features.pth"))
    let weights = try LPIPSWeights.combine(lin: lin, backbone: backbone)
    let plain = try LPIPS(weights: weights, rewriting: false), rewritten = try LPIPS(weights: weights, rewriting: true)
    for pair in try expectedPairs() {
        let (a, b) = try loadPair(pair)
        let d0 = try plain.distance(a, b), d1 = try rewritten.distance(a, b)
        #expect(abs(d1 - d0) <= 1e-5 * d0, "\(pair): \(d1) vs \(d0)")
    }
}

/// The rewrite on an input handed over row by row (filled into the scratch row, as LPIPS computes its scaling layer
/// there) gives the same values, to the bit, as on the whole tensor: both forms, odd sizes.
@Test(arguments: [
    RewriteCase(inChannels: 3, outChannels: 16, kernel: 11, stride: 4, padding: 2, height: 37, width: 45),
    RewriteCase(inChannels: 12, outChannels: 20, kernel: 5, stride: 1, padding: 2, height: 13, width: 22),
    RewriteCase(inChannels: 4, outChannels: 9, kernel: 7, stride: 3, padding: 1, height: 20, width: 16),
])
func rewriteOnRowsMatchesTensorInput(_ t: RewriteCase) throws {
    let x = seededTensor([t.inChannels, t.height, t.width], seed: 17)
    let w = seededTensor([t.outChannels, t.inChannels, t.kernel, t.kernel], seed: 19, scale: 0.2)
    let rewrite = try #require(try ThreeByThreeRewrite(weight: w, bias: seededTensor([t.outChannels], seed: 23), stride: t.stride,
                                                        padding: t.padding, activation: .relu))
    let values = x.data
    let rows = try rewrite.run(height: t.height, width: t.width) { c, r, scratch in
        for i in 0..<t.width { scratch[i] = values[(c * t.height + r) * t.width + i] }
        return UnsafePointer(scratch)
    }
    let whole = try rewrite(x)
    #expect(rows.shape == whole.shape)
    #expect(rows.data.map(\.bitPattern) == whole.data.map(\.bitPattern), "\(t)")
}
