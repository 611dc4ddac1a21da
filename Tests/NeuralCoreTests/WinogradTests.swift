import Foundation
import NeuralCore
import Testing

/// The instruction-set copies of the Winograd transforms this CPU can run (every copy up to the level chosen for it).
let runnableLevels = KernelLevel.allCases.filter { $0 <= Kernels.choice.level }

struct WinogradCase: Sendable, CustomStringConvertible {
    let cin, cout, h, w: Int
    var unitTiles: Int? = nil
    var channelBlock: Int? = nil
    var description: String {
        "\(cin)->\(cout) \(h)x\(w) unit \(unitTiles.map(String.init) ?? "auto") block \(channelBlock.map(String.init) ?? "auto")"
    }
}

/// Largest |fast - reference| relative to the reference's largest magnitude (at least 1).
func relativeError(_ fast: Tensor, _ reference: Tensor) -> Float {
    let scale = max(1, reference.data.map { abs($0) }.max() ?? 0)
    return (zip(fast.data, reference.data).map { abs($0 - $1) }.max() ?? 0) / scale
}

/// Winograd F(4x4, 3x3) against the double-precision definition: sizes that are not multiples of 4 (clipped last
/// tiles), rows narrower than a tile and units that start or end inside the row (the input transform reads the row's
/// inner tiles straight and its edge tiles sample by sample), a 1x1 image (every tap but the centre in the padding), runs of tiles split into several units, output
/// channels in uneven blocks, each activation, no bias, and every instruction-set copy the CPU runs.
@Test(arguments: [
    WinogradCase(cin: 8, cout: 5, h: 7, w: 11),
    WinogradCase(cin: 9, cout: 3, h: 1, w: 1),
    WinogradCase(cin: 16, cout: 7, h: 4, w: 4),
    WinogradCase(cin: 12, cout: 10, h: 13, w: 17, unitTiles: 2),
    WinogradCase(cin: 8, cout: 8, h: 2, w: 9, unitTiles: 1),
    WinogradCase(cin: 20, cout: 6, h: 30, w: 41, unitTiles: 3),
    WinogradCase(cin: 32, cout: 32, h: 23, w: 70),
    WinogradCase(cin: 12, cout: 10, h: 13, w: 17, unitTiles: 2, channelBlock: 3),
    WinogradCase(cin: 20, cout: 70, h: 9, w: 13),
    WinogradCase(cin: 5, cout: 4, h: 6, w: 3, unitTiles: 1),
    WinogradCase(cin: 5, cout: 4, h: 5, w: 6, unitTiles: 1),
    WinogradCase(cin: 3, cout: 2, h: 9, w: 2),
    WinogradCase(cin: 6, cout: 5, h: 7, w: 26, unitTiles: 2),
])
func winogradMatchesDefinition(_ t: WinogradCase) throws {
    let x = randomTensor([t.cin, t.h, t.w], seed: 21)
    let weight = randomTensor([t.cout, t.cin, 3, 3], seed: 22)
    let bias = randomTensor([t.cout], seed: 23)
    for level in runnableLevels {
        for activation in [Activation.none, .leakyReLU(0.1), .relu] {
            for b in [bias, nil] {
                var conv = try Conv2D(weight: weight, bias: b, activation: activation, algorithm: .winograd(level))
                conv.winogradUnitTiles = t.unitTiles
                conv.winogradChannelBlock = t.channelBlock
                let fast = try conv(x)
                let slow = ReferenceLayers.conv2d(x, weight: weight, bias: b, stride: 1, padding: 1, activation: activation)
                #expect(fast.shape == slow.shape)
                let error = relativeError(fast, slow)
                #expect(error < 1e-5, "\(t) \(level) \(activation) bias \(b != nil): \(error)")
            }
        }
    }
}

/// The accumulating form (a residual block's second convolution with its skip) through Winograd.
@Test func winogradAccumulatesOntoTheOutput() throws {
    let (cin, cout, h, w) = (10, 6, 9, 14)
    let x = randomTensor([cin, h, w], seed: 31)
    let weight = randomTensor([cout, cin, 3, 3], seed: 32)
    let bias = randomTensor([cout], seed: 33)
    let prior = randomTensor([cout, h, w], seed: 34)
    let plain = ReferenceLayers.conv2d(x, weight: weight, bias: bias, stride: 1, padding: 1)
    for level in runnableLevels {
        var conv = try Conv2D(weight: weight, bias: bias, algorithm: .winograd(level))
        conv.winogradUnitTiles = 2
        conv.winogradChannelBlock = 4
        var out = prior
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                conv.runAccumulating(src.baseAddress!, height: h, width: w, into: dst.baseAddress!, activation: .leakyReLU(0.1))
            }
        }
        var expected = prior
        for i in expected.data.indices {
            let v = plain.data[i] + prior.data[i]
            expected.data[i] = v >= 0 ? v : v * 0.1
        }
        let error = relativeError(out, expected)
        #expect(error < 1e-5, "\(level): \(error)")
    }
}

/// The shapes Winograd cannot compute are refused when asked for, and never chosen automatically.
@Test func winogradOnlyForThreeByThreeStrideOne() throws {
    #expect(throws: ShapeError.self) {
        try Conv2D(weight: Tensor(zeros: [4, 8, 3, 3]), bias: nil, stride: 2, algorithm: .winograd(.baseline))
    }
    #expect(throws: ShapeError.self) {
        try Conv2D(weight: Tensor(zeros: [4, 8, 5, 5]), bias: nil, algorithm: .winograd(.baseline))
    }
    #expect(try Conv2D(weight: Tensor(zeros: [4, 8, 3, 3]), bias: nil, stride: 2).algorithm == .im2col)
    #expect(try Conv2D(weight: Tensor(zeros: [4, 8, 1, 1]), bias: nil).algorithm == .im2col)
    #expect(try Conv2D(weight: Tensor(zeros: [4, 3, 3, 3]), bias: nil).algorithm == .im2col)
}

/// im2col stays correct on the shapes that would go to Winograd.
@Test func im2colMatchesDefinitionOnWinogradShapes() throws {
    let x = randomTensor([12, 13, 17], seed: 41)
    let weight = randomTensor([10, 12, 3, 3], seed: 42)
    let bias = randomTensor([10], seed: 43)
    var conv = try Conv2D(weight: weight, bias: bias, activation: .leakyReLU(0.1), algorithm: .im2col)
    conv.maxBandBytes = 64
    let error = relativeError(try conv(x), ReferenceLayers.conv2d(x, weight: weight, bias: bias, stride: 1, padding: 1,
                                                                   activation: .leakyReLU(0.1)))
    #expect(error < 1e-6)
}
