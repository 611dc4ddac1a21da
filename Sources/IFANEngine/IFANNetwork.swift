import Foundation
import NeuralCore

/// The IFAN network ready to run: layers built from validated weights.
///
/// The forward pass computes what the official PyTorch `Network.forward` computes at inference, layer for layer,
/// in float32. It is ordered for memory: the filter path (encoder, disparity map, filter predictor trunk) runs
/// first and leaves only 1/8-scale features; the filter predictor's last 1x1 convolution is evaluated one IAC
/// iteration at a time, and only for the kernel1 and bias channels that the IAC actually uses.
public struct IFANNetwork: Sendable {
    public let architecture: IFANArchitecture
    private let convolutions: [String: Conv2D]
    private let upsamplings: [String: ConvTranspose2D]
    /// Per IAC iteration: a 1x1 convolution producing the 384 kernel1 channels followed by the 128 bias channels.
    private let filterHeads: [Conv2D]

    public static let slope: Float = 0.1

    /// Builds the network from engine-named weights (no `module.Network.` prefix). Every name and shape is checked
    /// against the architecture inferred from `F.3.weight`.
    public init(weights: TensorDictionary) throws {
        let architecture = try IFANArchitecture.inferredOrThrow(from: weights)
        try architecture.validate(weights)
        self.architecture = architecture
        var convolutions: [String: Conv2D] = [:]
        var upsamplings: [String: ConvTranspose2D] = [:]
        for layer in architecture.layers {
            guard let w = weights[layer.name + ".weight"] else { throw IFANError.missingTensor(layer.name + ".weight") }
            guard let b = weights[layer.name + ".bias"] else { throw IFANError.missingTensor(layer.name + ".bias") }
            // Activations inside a layer name are fused; the residual blocks' second convolution has none.
            let activation: Activation = layer.activationModule ? .leakyReLU(Self.slope) : .none
            switch layer.kind {
            case .convolution(let stride):
                convolutions[layer.name] = try Conv2D(weight: w, bias: b, stride: stride, activation: activation)
            case .upsampling:
                upsamplings[layer.name] = try ConvTranspose2D(weight: w, bias: b, stride: 2, padding: 1, activation: activation)
            }
        }
        self.convolutions = convolutions
        self.upsamplings = upsamplings

        let c = IFANArchitecture.featureChannels
        guard let fw = weights["F.3.weight"]?.data else { throw IFANError.missingTensor("F.3.weight") }
        guard let fb = weights["F.3.bias"]?.data else { throw IFANError.missingTensor("F.3.bias") }
        let biasStart = architecture.iterations * IFANArchitecture.kernelChannelsPerIteration
        var heads: [Conv2D] = []
        for i in 0..<architecture.iterations {
            let rows = Array((i * 2 * 3 * c)..<(i * 2 * 3 * c + 3 * c)) + Array((biasStart + i * c)..<(biasStart + (i + 1) * c))
            var hw = [Float](), hb = [Float]()
            hw.reserveCapacity(rows.count * c)
            for r in rows {
                hw.append(contentsOf: fw[(r * c)..<((r + 1) * c)])
                hb.append(fb[r])
            }
            heads.append(try Conv2D(weight: Tensor(shape: [rows.count, c, 1, 1], data: hw), bias: Tensor(shape: [rows.count], data: hb)))
        }
        filterHeads = heads
    }

    /// Names of the intermediate tensors `forward` can report, matching the parity fixtures.
    public enum Tap: String, Sendable, CaseIterable {
        case conv4_3, DME, IAC, conv_res
    }

    /// Runs the network on a (3, H, W) image tensor with values in [0, 1]; H and W must be multiples of 8.
    /// Returns the clipped (3, H, W) output. `observe` receives the intermediate tensors named by `Tap`; `stage` is
    /// told as each stage starts (for progress displays).
    public func forward(_ input: Tensor, observe: ((Tap, Tensor) -> Void)? = nil,
                        stage: ((DeblurProgress.Stage) -> Void)? = nil) throws -> Tensor {
        guard input.rank == 3, input.shape[0] == 3 else {
            throw IFANError.badInput("the network expects a (3, H, W) image tensor, got \(input.shape)")
        }
        let (h, w) = (input.shape[1], input.shape[2])
        guard h >= 8, w >= 8, h % 8 == 0, w % 8 == 0 else {
            throw IFANError.badInput("the network needs height and width that are positive multiples of 8, got \(w)x\(h)")
        }
        // Filter path: encoder, disparity map, filter predictor trunk.
        var filterFeatures: Tensor
        do {
            stage?(.filterEncoder)
            let f = try encoder("kconv", input)
            stage?(.disparityMap)
            var dm = try conv("DME.0.0", f)
            try resblock("DME.1", stems: 2, &dm)
            try resblock("DME.2", stems: 2, &dm)
            dm = try conv("DME.3", dm)
            observe?(.DME, dm)
            stage?(.filterPredictor)
            let fDM = try conv("conv_DME.0", dm)
            var joined = f
            joined.shape[0] += fDM.shape[0]
            joined.data.append(contentsOf: fDM.data)
            var g = try conv("conv4_4.0.0", joined)
            try resblock("conv4_4.1", stems: 2, &g)
            try resblock("conv4_4.2", stems: 2, &g)
            g = try conv("conv4_4.3.0", g)
            g = try conv("F.0.0", g)
            try resblock("F.1", stems: 2, &g)
            try resblock("F.2", stems: 2, &g)
            filterFeatures = g
        }
        // Feature extractor, keeping the skips; each skip is released as soon as it has been added.
        stage?(.featureExtractor)
        var f1: Tensor? = try sequence(["conv1_1.0", "conv1_2.0", "conv1_3.0"], input)
        var f2: Tensor? = try sequence(["conv2_1.0", "conv2_2.0", "conv2_3.0"], f1!)
        var f3: Tensor? = try sequence(["conv3_1.0", "conv3_2.0", "conv3_3.0"], f2!)
        var f = try sequence(["conv4_1.0", "conv4_2.0", "conv4_3.0"], f3!)
        observe?(.conv4_3, f)

        stage?(.iac)
        f = try iac(f, filterFeatures)
        filterFeatures = Tensor(zeros: [0])
        observe?(.IAC, f)

        stage?(.reconstructor)
        f = try conv("conv_res.0.0", f)
        try resblock("conv_res.1", stems: 3, &f)
        f = try conv("conv_res.2.0", f)
        observe?(.conv_res, f)
        stage?(.upsampling)
        f = try upsample("upconv3_u.0", f, skip: f3!)
        f3 = nil
        try resblock("upconv3_1", stems: 1, &f)
        try resblock("upconv3_2", stems: 1, &f)
        f = try upsample("upconv2_u.0", f, skip: f2!)
        f2 = nil
        try resblock("upconv2_1", stems: 1, &f)
        try resblock("upconv2_2", stems: 1, &f)
        f = try upsample("upconv1_u.0", f, skip: f1!)
        f1 = nil
        try resblock("upconv1_1", stems: 1, &f)
        try resblock("upconv1_2", stems: 1, &f)
        var out = try conv("out_res.0", f)
        f = Tensor(zeros: [0])
        Elementwise.add(input, into: &out)
        Elementwise.clip(&out, 0, 1)
        return out
    }

    // MARK: - Stages

    private func conv(_ name: String, _ x: Tensor) throws -> Tensor {
        guard let layer = convolutions[name] else { throw IFANError.missingTensor(name + ".weight") }
        return try layer(x)
    }

    private func sequence(_ names: [String], _ x: Tensor) throws -> Tensor {
        var y = x
        for name in names { y = try conv(name, y) }
        return y
    }

    private func encoder(_ prefix: String, _ x: Tensor) throws -> Tensor {
        var y = x
        for stage in 1...4 {
            for i in 1...3 { y = try conv("\(prefix)\(stage)_\(i).0", y) }
        }
        return y
    }

    /// `ResnetBlock`, in place: per stem x = LReLU(x + conv(LReLU(conv(x)))), the second convolution accumulating
    /// straight onto x; with more than one stem the block's input is added again at the end, without activation.
    private func resblock(_ name: String, stems: Int, _ x: inout Tensor) throws {
        let input = stems > 1 ? x : nil
        let (h, w) = (x.shape[1], x.shape[2])
        for i in 0..<stems {
            let mid = try conv("\(name).stem.\(i).0", x)
            guard let second = convolutions["\(name).stem.\(i).2"] else { throw IFANError.missingTensor("\(name).stem.\(i).2.weight") }
            guard second.inChannels == mid.shape[0], second.outChannels == x.shape[0] else {
                throw IFANError.badInput("residual block \(name) does not fit \(x.shape)")
            }
            mid.data.withUnsafeBufferPointer { m in
                x.data.withUnsafeMutableBufferPointer { o in
                    second.runAccumulating(m.baseAddress!, height: h, width: w, into: o.baseAddress!,
                                           activation: .leakyReLU(Self.slope))
                }
            }
        }
        if let input { Elementwise.add(input, into: &x) }
    }

    private func upsample(_ name: String, _ x: Tensor, skip: Tensor) throws -> Tensor {
        guard let layer = upsamplings[name] else { throw IFANError.missingTensor(name + ".weight") }
        var y = try layer(x)
        Elementwise.add(skip, into: &y)
        return y
    }

    /// The IAC iterations. Each iteration's kernel1 and bias channels are computed just before it by one sgemm
    /// with that iteration's rows of the filter predictor's last layer, into a buffer reused by every iteration.
    private func iac(_ features: Tensor, _ filterFeatures: Tensor) throws -> Tensor {
        let c = IFANArchitecture.featureChannels
        let (h, w) = (features.shape[1], features.shape[2])
        let plane = h * w
        var current = features
        var next = Tensor(zeros: features.shape)
        var filters = [Float](repeating: 0, count: 4 * c * plane)
        filterFeatures.data.withUnsafeBufferPointer { g in
            filters.withUnsafeMutableBufferPointer { k in
                for head in filterHeads {
                    head.run(g.baseAddress!, height: h, width: w, into: k.baseAddress!)
                    current.data.withUnsafeBufferPointer { x in
                        next.data.withUnsafeMutableBufferPointer { o in
                            IAC.iterate(input: x.baseAddress!, kernel: k.baseAddress!, bias: k.baseAddress! + 3 * c * plane,
                                        output: o.baseAddress!, channels: c, height: h, width: w, slope: Self.slope)
                        }
                    }
                    swap(&current, &next)
                }
            }
        }
        return current
    }
}
