import NeuralCore

/// One learnable layer of the network: what the weight file must hold under `name`, and enough about where it runs
/// to count its cost.
public struct LayerSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `nn.Conv2d` with zero padding `(kernel - 1) / 2`.
        case convolution(stride: Int)
        /// `nn.ConvTranspose2d(kernel 4, stride 2, padding 1)`.
        case upsampling
    }

    /// Parameter prefix in the state dict, e.g. `conv1_1.0` (the `.weight` and `.bias` tensors hang off it).
    public let name: String
    public let kind: Kind
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    /// Input resolution as a divisor of the image size (1, 2, 4 or 8).
    public let inputScale: Int
    /// Whether an `nn.LeakyReLU` module follows the layer (ptflops counts those; functional activations it does not).
    public let activationModule: Bool

    public var weightShape: [Int] {
        switch kind {
        case .convolution: [outChannels, inChannels, kernel, kernel]
        case .upsampling: [inChannels, outChannels, kernel, kernel]
        }
    }

    public var parameterCount: Int { weightShape.reduce(1, *) + outChannels }

    /// Output size for an input of `height` x `width` pixels at full resolution (the layer sees it at `inputScale`).
    func outputPixels(imageHeight h: Int, imageWidth w: Int) -> (input: Int, output: Int) {
        let ih = h / inputScale, iw = w / inputScale
        switch kind {
        case .convolution(let s):
            let p = (kernel - 1) / 2
            let oh = (ih + 2 * p - kernel) / s + 1, ow = (iw + 2 * p - kernel) / s + 1
            return (ih * iw, oh * ow)
        case .upsampling:
            return (ih * iw, (2 * ih) * (2 * iw))
        }
    }
}

/// The IFAN network of the paper's final model (the official `configs/config_IFAN.py`: ks 3, ch 32, res_num 2,
/// Fs 3), with `n` IAC iterations (17 for the released IFAN.pytorch; 8, 26, 35, 44 for the ablation variants).
///
/// The layer table is the single description of the network: import checks weight files against it, `info`
/// counts parameters and MACs from it, and the engine builds its layers from it by name.
public struct IFANArchitecture: Sendable, Equatable {
    public let iterations: Int
    public let layers: [LayerSpec]

    public static let featureChannels = 128
    /// Channels per IAC iteration in the filter predictor's output: kernel1 and kernel2 (3 taps x 128 each).
    public static let kernelChannelsPerIteration = 2 * 3 * featureChannels

    public init(iterations n: Int = 17) {
        iterations = n
        var table: [LayerSpec] = []
        func conv(_ name: String, _ cin: Int, _ cout: Int, k: Int = 3, stride: Int = 1, act: Bool = true, scale: Int) {
            table.append(LayerSpec(name: act ? name + ".0" : name, kind: .convolution(stride: stride), inChannels: cin,
                                   outChannels: cout, kernel: k, inputScale: scale, activationModule: act))
        }
        func resblock(_ name: String, _ c: Int, stems: Int, scale: Int) {
            for i in 0..<stems {
                for (index, act) in [(0, true), (2, false)] {
                    table.append(LayerSpec(name: "\(name).stem.\(i).\(index)", kind: .convolution(stride: 1), inChannels: c,
                                           outChannels: c, kernel: 3, inputScale: scale, activationModule: act))
                }
            }
        }
        func up(_ name: String, _ cin: Int, _ cout: Int, scale: Int) {
            table.append(LayerSpec(name: name + ".0", kind: .upsampling, inChannels: cin, outChannels: cout, kernel: 4,
                                   inputScale: scale, activationModule: true))
        }
        let (c1, c2, c3, c4) = (32, 64, 128, 128)
        // Feature extractor, then the filter encoder with the same topology.
        for prefix in ["conv", "kconv"] {
            conv("\(prefix)1_1", 3, c1, scale: 1); conv("\(prefix)1_2", c1, c1, scale: 1); conv("\(prefix)1_3", c1, c1, scale: 1)
            conv("\(prefix)2_1", c1, c2, stride: 2, scale: 1); conv("\(prefix)2_2", c2, c2, scale: 2); conv("\(prefix)2_3", c2, c2, scale: 2)
            conv("\(prefix)3_1", c2, c3, stride: 2, scale: 2); conv("\(prefix)3_2", c3, c3, scale: 4); conv("\(prefix)3_3", c3, c3, scale: 4)
            conv("\(prefix)4_1", c3, c4, stride: 2, scale: 4); conv("\(prefix)4_2", c4, c4, scale: 8); conv("\(prefix)4_3", c4, c4, scale: 8)
        }
        // Disparity map estimator.
        conv("DME.0", c4, c4, scale: 8)
        resblock("DME.1", c4, stems: 2, scale: 8)
        resblock("DME.2", c4, stems: 2, scale: 8)
        conv("DME.3", c4, 1, act: false, scale: 8)
        // Filter predictor.
        conv("conv_DME", 1, c4, scale: 8)
        conv("conv4_4.0", 2 * c4, c4, scale: 8)
        resblock("conv4_4.1", c4, stems: 2, scale: 8)
        resblock("conv4_4.2", c4, stems: 2, scale: 8)
        conv("conv4_4.3", c4, c4, scale: 8)
        conv("F.0", c4, c4, scale: 8)
        resblock("F.1", c4, stems: 2, scale: 8)
        resblock("F.2", c4, stems: 2, scale: 8)
        conv("F.3", c4, n * (Self.kernelChannelsPerIteration + c4), k: 1, act: false, scale: 8)
        // Reconstructor.
        conv("conv_res.0", c4, c4, scale: 8)
        resblock("conv_res.1", c4, stems: 3, scale: 8)
        conv("conv_res.2", c4, c4, scale: 8)
        up("upconv3_u", c4, c3, scale: 8)
        resblock("upconv3_1", c3, stems: 1, scale: 4); resblock("upconv3_2", c3, stems: 1, scale: 4)
        up("upconv2_u", c3, c2, scale: 4)
        resblock("upconv2_1", c2, stems: 1, scale: 2); resblock("upconv2_2", c2, stems: 1, scale: 2)
        up("upconv1_u", c2, c1, scale: 2)
        resblock("upconv1_1", c1, stems: 1, scale: 1); resblock("upconv1_2", c1, stems: 1, scale: 1)
        conv("out_res", c1, 3, scale: 1)
        layers = table
    }

    /// The architecture whose filter predictor matches the weights' `F.3.weight`, or nil when it fits none.
    public static func inferred(from weights: TensorDictionary) -> IFANArchitecture? {
        guard let w = weights["F.3.weight"], w.rank == 4, w.shape[1] == featureChannels else { return nil }
        let perIteration = kernelChannelsPerIteration + featureChannels
        guard w.shape[0] > 0, w.shape[0] % perIteration == 0 else { return nil }
        return IFANArchitecture(iterations: w.shape[0] / perIteration)
    }

    /// Every tensor the weight file must hold, with its shape, in layer order.
    public var parameters: [(name: String, shape: [Int])] {
        layers.flatMap { [($0.name + ".weight", $0.weightShape), ($0.name + ".bias", [$0.outChannels])] }
    }

    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    public func layer(_ name: String) -> LayerSpec? { layers.first { $0.name == name } }

    /// Plain multiply-adds of the convolutions for one image (IAC and element-wise operations not included).
    public func macs(width: Int, height: Int) -> Int {
        layers.reduce(0) { total, layer in
            let (inPixels, outPixels) = layer.outputPixels(imageHeight: height, imageWidth: width)
            let perPosition = layer.inChannels * layer.outChannels * layer.kernel * layer.kernel
            switch layer.kind {
            case .convolution: return total + perPosition * outPixels
            case .upsampling: return total + perPosition * inPixels
            }
        }
    }

    /// MACs as ptflops 0.6.4 counts them, the convention of the paper's table: convolutions plus one add per output
    /// element for the bias, plus one per element of each `nn.LeakyReLU` module's output; functional operations
    /// (IAC, the residual blocks' activations, additions) are not counted.
    public func ptflopsMACs(width: Int, height: Int) -> Int {
        layers.reduce(0) { total, layer in
            let (inPixels, outPixels) = layer.outputPixels(imageHeight: height, imageWidth: width)
            let perPosition = layer.inChannels * layer.outChannels * layer.kernel * layer.kernel
            let conv: Int
            switch layer.kind {
            case .convolution: conv = perPosition * outPixels
            case .upsampling: conv = perPosition * inPixels
            }
            let outElements = layer.outChannels * outPixels
            return total + conv + outElements + (layer.activationModule ? outElements : 0)
        }
    }

    /// MACs of the IAC iterations (6 per feature element and iteration), which the conventions above leave out.
    public func iacMACs(width: Int, height: Int) -> Int {
        iterations * 6 * Self.featureChannels * (height / 8) * (width / 8)
    }
}
