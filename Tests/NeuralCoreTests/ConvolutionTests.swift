import Testing
import NeuralCore

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = shape.reduce(1, *)
    var data = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        data[i] = Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
    }
    return Tensor(shape: shape, data: data)
}

struct ConvCase: Sendable, CustomStringConvertible {
    let cin, cout, k, stride, padding, h, w: Int
    var description: String { "\(cin)->\(cout) k\(k) s\(stride) p\(padding) \(h)x\(w)" }
}

@Test(arguments: [
    ConvCase(cin: 3, cout: 5, k: 3, stride: 1, padding: 1, h: 7, w: 11),
    ConvCase(cin: 4, cout: 6, k: 3, stride: 2, padding: 1, h: 9, w: 13),
    ConvCase(cin: 2, cout: 3, k: 1, stride: 1, padding: 0, h: 5, w: 3),
    ConvCase(cin: 3, cout: 4, k: 11, stride: 4, padding: 2, h: 31, w: 37),
    ConvCase(cin: 3, cout: 2, k: 5, stride: 1, padding: 2, h: 6, w: 9),
    ConvCase(cin: 1, cout: 1, k: 3, stride: 1, padding: 1, h: 1, w: 1),
])
func convolutionMatchesDefinition(_ t: ConvCase) throws {
    let x = randomTensor([t.cin, t.h, t.w], seed: 1)
    let w = randomTensor([t.cout, t.cin, t.k, t.k], seed: 2)
    let b = randomTensor([t.cout], seed: 3)
    for activation in [Activation.none, .leakyReLU(0.1), .relu] {
        var conv = try Conv2D(weight: w, bias: b, stride: t.stride, padding: t.padding, activation: activation)
        conv.maxBandBytes = 64  // force several bands
        let fast = try conv(x)
        let slow = ReferenceLayers.conv2d(x, weight: w, bias: b, stride: t.stride, padding: t.padding, activation: activation)
        #expect(fast.shape == slow.shape)
        let worst = zip(fast.data, slow.data).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "\(t) \(activation): \(worst)")
    }
}

@Test func convolutionRejectsMismatchedShapes() throws {
    let conv = try Conv2D(weight: Tensor(zeros: [2, 3, 3, 3]), bias: nil)
    #expect(throws: ShapeError.self) { try conv(Tensor(zeros: [4, 5, 5])) }
    #expect(throws: ShapeError.self) { try Conv2D(weight: Tensor(zeros: [2, 3, 3, 3]), bias: Tensor(zeros: [3])) }
}
