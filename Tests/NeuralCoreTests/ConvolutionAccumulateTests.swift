import Testing
import NeuralCore

/// `runAccumulating` is the layer added onto the output's previous values, then the given activation, on every
/// band layout and on the 1x1 path.
@Test(arguments: [(3, 4, 3, 9, 7), (5, 2, 1, 6, 5), (2, 3, 3, 1, 1)])
func accumulatingConvolutionAddsOntoTheOutput(_ c: (Int, Int, Int, Int, Int)) throws {
    let (cin, cout, k, h, w) = c
    let x = randomTensor([cin, h, w], seed: 11)
    let weight = randomTensor([cout, cin, k, k], seed: 12)
    let bias = randomTensor([cout], seed: 13)
    let prior = randomTensor([cout, h, w], seed: 14)
    for band in [64, 32 << 20] {
        var conv = try Conv2D(weight: weight, bias: bias)
        conv.maxBandBytes = band
        var out = prior
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                conv.runAccumulating(src.baseAddress!, height: h, width: w, into: dst.baseAddress!, activation: .leakyReLU(0.1))
            }
        }
        let plain = ReferenceLayers.conv2d(x, weight: weight, bias: bias, stride: 1, padding: (k - 1) / 2)
        for i in out.data.indices {
            let v = plain.data[i] + prior.data[i]
            let expected = v >= 0 ? v : v * 0.1
            #expect(abs(out.data[i] - expected) < 1e-4, "\(c) band \(band) at \(i)")
        }
    }
}
