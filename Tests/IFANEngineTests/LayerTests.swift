import Testing
import NeuralCore

// The fast kernels against the plain definitions, on odd sizes where edge handling and banding go wrong first.

struct TransposedCase: Sendable, CustomStringConvertible {
    let cin, cout, k, stride, padding, h, w: Int
    var description: String { "\(cin)->\(cout) k\(k) s\(stride) p\(padding) \(h)x\(w)" }
}

@Test(arguments: [
    TransposedCase(cin: 3, cout: 5, k: 4, stride: 2, padding: 1, h: 5, w: 7),
    TransposedCase(cin: 4, cout: 2, k: 4, stride: 2, padding: 1, h: 1, w: 1),
    TransposedCase(cin: 2, cout: 3, k: 3, stride: 1, padding: 1, h: 6, w: 3),
    TransposedCase(cin: 2, cout: 2, k: 5, stride: 3, padding: 2, h: 4, w: 9),
    TransposedCase(cin: 6, cout: 4, k: 4, stride: 2, padding: 0, h: 3, w: 11),
])
func transposedConvolutionMatchesDefinition(_ t: TransposedCase) throws {
    let x = randomTensor([t.cin, t.h, t.w], seed: 1)
    let w = randomTensor([t.cin, t.cout, t.k, t.k], seed: 2)
    let b = randomTensor([t.cout], seed: 3)
    for activation in [Activation.none, .leakyReLU(0.1)] {
        for band in [64, 32 << 20] {
            var layer = try ConvTranspose2D(weight: w, bias: b, stride: t.stride, padding: t.padding, activation: activation)
            layer.maxBandBytes = band  // 64 bytes forces one input row per band
            let fast = try layer(x)
            let slow = ReferenceLayers.convTranspose2d(x, weight: w, bias: b, stride: t.stride, padding: t.padding,
                                                        activation: activation)
            #expect(fast.shape == slow.shape)
            #expect(maxAbsDifference(fast, slow) < 1e-5, "\(t) \(activation) band \(band)")
        }
    }
}

@Test func transposedConvolutionRejectsMismatchedShapes() throws {
    let layer = try ConvTranspose2D(weight: Tensor(zeros: [4, 2, 4, 4]), bias: nil, stride: 2, padding: 1)
    #expect(throws: ShapeError.self) { try layer(Tensor(zeros: [3, 5, 5])) }
    #expect(throws: ShapeError.self) {
        try ConvTranspose2D(weight: Tensor(zeros: [4, 2, 4, 4]), bias: Tensor(zeros: [4]), stride: 2, padding: 1)
    }
}

@Test(arguments: [(3, 5, 7), (2, 1, 1), (4, 1, 9), (1, 8, 1), (5, 13, 11)])
func iacMatchesDefinition(_ size: (Int, Int, Int)) throws {
    let (c, h, w) = size
    let x = randomTensor([c, h, w], seed: 4)
    let k = randomTensor([3 * c, h, w], seed: 5)
    let b = randomTensor([c, h, w], seed: 6, scale: 0.5)
    let fast = try IAC.iterate(x, kernel: k, bias: b)
    let slow = ReferenceLayers.iac(x, kernel: k, bias: b)
    #expect(maxAbsDifference(fast, slow) < 1e-5, "\(size)")
}

/// The IAC reference itself, against values worked out by hand for one channel: a vertical then a horizontal
/// pass with the same taps, edges replicated, then bias and LeakyReLU.
@Test func iacReferenceFollowsTheDefinition() {
    // 1 channel, 2x2 image [[1, 2], [3, 4]]; taps (0, 1, 1) everywhere: each pass adds the next neighbour.
    let x = Tensor(shape: [1, 2, 2], data: [1, 2, 3, 4])
    var k = Tensor(zeros: [3, 2, 2])
    for i in 4..<12 { k.data[i] = 1 }
    let b = Tensor(shape: [1, 2, 2], data: [0, 0, 0, -100])
    // Vertical: mid = x[y] + x[y+1 clamped] = [[4, 6], [6, 8]]; horizontal: [[10, 12], [14, 16]]; bias; LReLU.
    let out = ReferenceLayers.iac(x, kernel: k, bias: b)
    #expect(out.data == [10, 12, 14, Float(16 - 100) * 0.1])
}

@Test func iacRejectsMismatchedShapes() {
    #expect(throws: ShapeError.self) {
        try IAC.iterate(Tensor(zeros: [2, 3, 3]), kernel: Tensor(zeros: [5, 3, 3]), bias: Tensor(zeros: [2, 3, 3]))
    }
}

@Test func npyRoundTripAndErrors() throws {
    let t = randomTensor([2, 3, 5], seed: 9)
    #expect(try NPYFile.decode(NPYFile.encode(t)) == t)
    var bad = NPYFile.encode(t)
    bad.removeLast(4)
    #expect(throws: NPYError.self) { try NPYFile.decode(bad) }
    #expect(throws: NPYError.self) { try NPYFile.decode(Data("not an array".utf8)) }
}

import Foundation
