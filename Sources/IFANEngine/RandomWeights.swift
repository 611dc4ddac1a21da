import NeuralCore

extension IFANArchitecture {
    /// Reproducible random weights with fan-in scaling, so activations stay in a normal range (no overflow, no
    /// denormals) and a forward pass costs what the trained network's does. For benchmarks: the trained weights
    /// cannot be bundled, and the cost does not depend on the values.
    public func randomWeights(seed: UInt64 = 42) -> TensorDictionary {
        var state = seed
        /// Uniform in [-1, 1) (a linear congruential sequence).
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        var weights: TensorDictionary = [:]
        for layer in layers {
            let fanIn = layer.inChannels * layer.kernel * layer.kernel
            let scale = (layer.name == "F.3" ? 0.3 : 1.5) / Float(fanIn).squareRoot()
            let shape = layer.weightShape
            weights[layer.name + ".weight"] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in next() * scale })
            weights[layer.name + ".bias"] = Tensor(shape: [layer.outChannels], data: (0..<layer.outChannels).map { _ in next() * 0.05 })
        }
        return weights
    }
}
