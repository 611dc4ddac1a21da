import TestSupport
import Foundation
import NeuralCore

/// `../shared/fixtures/ifan-random/<name>`.
func ifanFixture(_ name: String) -> URL { fixture("ifan-random/" + name) }

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = shape.reduce(1, *)
    var data = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        data[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    return Tensor(shape: shape, data: data)
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    var worst: Float = 0
    for i in a.data.indices { worst = max(worst, abs(a.data[i] - b.data[i])) }
    return worst
}

