/// Where a deblur stands within one image, so that a large image (minutes per image) is not silent.
public struct DeblurProgress: Sendable, Equatable {
    /// The parts of one forward pass, in the order they run.
    public enum Stage: String, Sendable, CaseIterable {
        case filterEncoder = "filter encoder"
        case disparityMap = "disparity map"
        case filterPredictor = "filter predictor"
        case featureExtractor = "feature extractor"
        case iac = "IAC"
        case reconstructor = "reconstructor"
        case upsampling = "upsampling"
        case done = "done"
    }

    /// 1-based index of the tile being run, and how many there are (1 for an image run whole).
    public var tile: Int
    public var tiles: Int
    /// The stage now starting (`.done` once the last tile has finished).
    public var stage: Stage
    /// The share of the whole image's work finished, from 0 to 1, weighted by each stage's multiply-adds.
    public var fraction: Double

    public init(tile: Int, tiles: Int, stage: Stage, fraction: Double) {
        self.tile = tile
        self.tiles = tiles
        self.stage = stage
        self.fraction = fraction
    }
}

/// Receives progress reports; called on the deblurring thread, between stages.
public typealias DeblurProgressHandler = @Sendable (DeblurProgress) -> Void

extension IFANArchitecture {
    /// The stage a layer of the table runs in.
    static func stage(ofLayer name: String) -> DeblurProgress.Stage {
        if name.hasPrefix("kconv") { return .filterEncoder }
        if name.hasPrefix("DME") { return .disparityMap }
        if name.hasPrefix("F.3") { return .iac }  // evaluated one iteration at a time, inside the IAC loop
        if name.hasPrefix("conv_DME") || name.hasPrefix("conv4_4") || name.hasPrefix("F.") { return .filterPredictor }
        if name.hasPrefix("conv_res") { return .reconstructor }
        if name.hasPrefix("upconv") || name.hasPrefix("out_res") { return .upsampling }
        return .featureExtractor
    }

    /// Each stage's share of one forward pass's multiply-adds at this size, as the engine computes them (the
    /// filter predictor's last layer only for the kernel1 and bias channels; the IAC's own taps included).
    public func stageShares(width: Int, height: Int) -> [DeblurProgress.Stage: Double] {
        var macs: [DeblurProgress.Stage: Double] = [:]
        for layer in layers {
            let (inPixels, outPixels) = layer.outputPixels(imageHeight: height, imageWidth: width)
            var m = Double(layer.inChannels * layer.outChannels * layer.kernel * layer.kernel)
            if case .upsampling = layer.kind { m *= Double(inPixels) } else { m *= Double(outPixels) }
            if layer.name.hasPrefix("F.3") {
                m *= Double(4 * Self.featureChannels) / Double(Self.kernelChannelsPerIteration + Self.featureChannels)
            }
            macs[Self.stage(ofLayer: layer.name), default: 0] += m
        }
        macs[.iac, default: 0] += Double(iacMACs(width: width, height: height))
        let total = macs.values.reduce(0, +)
        return total > 0 ? macs.mapValues { $0 / total } : [:]
    }
}

/// Turns the network's stage boundaries into `DeblurProgress` reports for one tile of several.
struct StageReporter {
    let handler: DeblurProgressHandler
    let tile: Int
    let tiles: Int
    let shares: [DeblurProgress.Stage: Double]
    private var done = 0.0
    private var running: DeblurProgress.Stage?

    init(handler: @escaping DeblurProgressHandler, tile: Int, tiles: Int, shares: [DeblurProgress.Stage: Double]) {
        self.handler = handler
        self.tile = tile
        self.tiles = tiles
        self.shares = shares
    }

    /// Reports that `stage` starts; the stage running until now counts as finished.
    mutating func start(_ stage: DeblurProgress.Stage) {
        if let running { done += shares[running] ?? 0 }
        running = stage
        let fraction = (Double(tile - 1) + min(1, done)) / Double(tiles)
        handler(DeblurProgress(tile: tile, tiles: tiles, stage: stage, fraction: fraction))
    }
}
