import Testing
import NeuralCore
import IFANEngine

@Test func parameterCountMatchesThePaper() {
    let a = IFANArchitecture()
    #expect(a.iterations == 17)
    #expect(a.parameterCount == 10_476_996)
    #expect(a.parameters.count == 158)
    #expect(a.layer("F.3")?.outChannels == 15232)
}

/// ptflops 0.6.4 on the official model at (3, 720, 1280) reports 362.895 GMac; plain multiply-adds are 361.5 G.
@Test func macCountsMatchPtflopsAndPlainCounts() {
    let a = IFANArchitecture()
    let ptflops = Double(a.ptflopsMACs(width: 1280, height: 720)) / 1e9
    let plain = Double(a.macs(width: 1280, height: 720)) / 1e9
    #expect(abs(ptflops - 362.895) < 0.0005, "\(ptflops)")
    #expect(abs(plain - 361.507) < 0.001, "\(plain)")
    // The 1/8-scale part dominates: 119.4 G of it.
    let eighth = a.layers.filter { $0.inputScale == 8 }
    #expect(eighth.count > 40)
}

@Test(arguments: [8, 17, 26, 35, 44])
func iterationsAreInferredFromTheFilterPredictor(_ n: Int) {
    let weights: TensorDictionary = ["F.3.weight": Tensor(zeros: [n * 896, 128, 1, 1])]
    #expect(IFANArchitecture.inferred(from: weights)?.iterations == n)
}

@Test func oddFilterPredictorIsRefused() {
    let weights: TensorDictionary = ["F.3.weight": Tensor(zeros: [1000, 128, 1, 1])]
    #expect(IFANArchitecture.inferred(from: weights) == nil)
    #expect(throws: IFANError.self) { try IFANArchitecture.inferredOrThrow(from: weights) }
}

/// Zero weights of the right shapes, with the checkpoint's prefix and training-only tensors.
func syntheticCheckpoint(iterations: Int = 17) -> TensorDictionary {
    var state: TensorDictionary = [:]
    for (name, shape) in IFANArchitecture(iterations: iterations).parameters {
        state["module.Network." + name] = Tensor(zeros: shape)
    }
    state["module.reblurNet.RBF.3.weight"] = Tensor(zeros: [357, 128, 3, 3])
    state["module.reblurNet.RBF.3.bias"] = Tensor(zeros: [357])
    return state
}

@Test func importStripsThePrefixAndDropsTrainingOnlyTensors() throws {
    let (architecture, weights) = try IFANArchitecture.networkWeights(fromCheckpoint: syntheticCheckpoint(iterations: 8))
    #expect(architecture.iterations == 8)
    #expect(weights.count == 158)
    #expect(weights["conv1_1.0.weight"]?.shape == [32, 3, 3, 3])
    #expect(weights.keys.allSatisfy { !$0.hasPrefix("module.") })
}

@Test func importNamesAMissingTensor() {
    var state = syntheticCheckpoint()
    state["module.Network.upconv2_1.stem.0.2.bias"] = nil
    #expect(throws: IFANError.missingTensor("upconv2_1.stem.0.2.bias")) {
        try IFANArchitecture.networkWeights(fromCheckpoint: state)
    }
}

@Test func importNamesAMisshapedTensor() {
    var state = syntheticCheckpoint()
    state["module.Network.DME.3.weight"] = Tensor(zeros: [2, 128, 3, 3])
    #expect(throws: IFANError.wrongShape(name: "DME.3.weight", expected: [1, 128, 3, 3], found: [2, 128, 3, 3])) {
        try IFANArchitecture.networkWeights(fromCheckpoint: state)
    }
}

@Test func importNamesAnUnexpectedTensor() {
    var state = syntheticCheckpoint()
    state["module.Network.conv5_1.0.weight"] = Tensor(zeros: [1])
    #expect(throws: IFANError.unexpectedTensor("conv5_1.0.weight")) {
        try IFANArchitecture.networkWeights(fromCheckpoint: state)
    }
}

@Test func networkRefusesInputsThatAreNotMultiplesOf8() throws {
    let (_, weights) = try IFANArchitecture.networkWeights(fromCheckpoint: syntheticCheckpoint(iterations: 1))
    let network = try IFANNetwork(weights: weights)
    #expect(throws: IFANError.self) { try network.forward(Tensor(zeros: [3, 12, 16])) }
    #expect(throws: IFANError.self) { try network.forward(Tensor(zeros: [1, 16, 16])) }
    let out = try network.forward(Tensor(zeros: [3, 8, 16]))
    #expect(out.shape == [3, 8, 16])
}
