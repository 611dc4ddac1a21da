import Imaging
import NeuralCore

/// The seam between evaluation code and a deblurring model: anything that maps a blurry image to a sharp one.
public protocol Deblurrer: Sendable {
    /// A short name for reports (e.g. the model's store name).
    var name: String { get }
    func deblur(_ image: RGBImage) throws -> RGBImage
    /// The same, reporting progress within the image (tiles, stages) to `progress` when it is not nil.
    func deblur(_ image: RGBImage, progress: DeblurProgressHandler?) throws -> RGBImage
}

extension Deblurrer {
    /// A model that cannot say where it stands reports only its end.
    public func deblur(_ image: RGBImage, progress: DeblurProgressHandler?) throws -> RGBImage {
        let result = try deblur(image)
        progress?(DeblurProgress(tile: 1, tiles: 1, stage: .done, fraction: 1))
        return result
    }
}

/// How an image whose size is not a multiple of 8 is fitted to the network.
public enum EdgeHandling: String, Sendable, CaseIterable {
    /// Pad bottom/right by repeating the last row/column, run, crop back: output size equals input size.
    case replicate
    /// Pad bottom/right by mirroring (PyTorch's `reflect`, the edge not repeated), run, crop back.
    case reflect
    /// Crop bottom/right to a multiple of 8, as the paper's evaluation (`eval.py`) does: the output is smaller.
    case crop
}

/// IFAN as a `Deblurrer`: fits the image to multiples of 8, runs the network (tiled when large), and fits back.
///
/// The network was trained on display-encoded (sRGB) 8-bit images, so linear input (RAW) is encoded to display
/// values first; the output is display-encoded.
public struct IFANDeblurrer: Deblurrer {
    public let name: String
    public let network: IFANNetwork
    public var edges: EdgeHandling
    /// Tiling for large images. Nil runs every image whole.
    public var tiling: TiledInference?
    /// Images up to this many pixels run whole even when `tiling` is set, so that the test sets of the paper
    /// (DPDD 1680x1120, RealDOF about 2320x1550) get exactly the whole-image result; about 360 MB of working
    /// memory per megapixel.
    public var maxWholeImagePixels: Int

    /// The default whole-image limit: 4 megapixels, about 1.6 GB of working memory.
    public static let defaultMaxWholeImagePixels = 4 << 20

    public init(name: String = "ifan", network: IFANNetwork, edges: EdgeHandling = .replicate,
                tiling: TiledInference? = try? TiledInference(tileSize: 1024, overlap: 128),
                maxWholeImagePixels: Int = IFANDeblurrer.defaultMaxWholeImagePixels) {
        self.name = name
        self.network = network
        self.edges = edges
        self.tiling = tiling
        self.maxWholeImagePixels = maxWholeImagePixels
    }

    public func deblur(_ image: RGBImage) throws -> RGBImage {
        try deblur(image, progress: nil)
    }

    public func deblur(_ image: RGBImage, progress: DeblurProgressHandler?) throws -> RGBImage {
        let source = image.displayEncoded()
        let (w, h) = (source.width, source.height)
        let input: Tensor
        let (outW, outH): (Int, Int)
        switch edges {
        case .crop:
            (outW, outH) = (w / 8 * 8, h / 8 * 8)
            guard outW > 0, outH > 0 else {
                throw IFANError.badInput("a \(w)x\(h) image is smaller than 8x8 and cannot be cropped to a multiple of 8")
            }
            input = Self.tensor(source, width: outW, height: outH) { x, y in (x, y) }
        case .replicate, .reflect:
            (outW, outH) = (w, h)
            let pw = (w + 7) / 8 * 8, ph = (h + 7) / 8 * 8
            let mode = edges
            input = Self.tensor(source, width: pw, height: ph) { x, y in
                (Self.fold(x, size: w, mode: mode), Self.fold(y, size: h, mode: mode))
            }
        }
        let (inH, inW) = (input.shape[1], input.shape[2])
        let tiled = tiling.map { inW * inH > maxWholeImagePixels && $0.needsTiling(width: inW, height: inH) } ?? false
        let tiles = tiled ? tiling!.tileCount(width: inW, height: inH) : 1
        let shares = progress == nil ? [:] : network.architecture.stageShares(width: inW, height: inH)
        var tile = 0
        func forward(_ x: Tensor) throws -> Tensor {
            tile += 1
            guard let progress else { return try network.forward(x) }
            var reporter = StageReporter(handler: progress, tile: tile, tiles: tiles, shares: shares)
            return try network.forward(x, stage: { reporter.start($0) })
        }
        let output = tiled ? try tiling!.run(input, forward) : try forward(input)
        progress?(DeblurProgress(tile: tiles, tiles: tiles, stage: .done, fraction: 1))
        // Finite weights and inputs can still overflow; a non-finite output is an error, never an image.
        if let bad = output.data.firstIndex(where: { !$0.isFinite }) {
            throw IFANError.badInput("the network produced a non-finite value (\(output.data[bad]) at element \(bad)); "
                                     + "the weights or the input are not usable")
        }
        let (pw, ph) = (output.shape[2], output.shape[1])
        if pw == outW && ph == outH {
            return RGBImage(width: outW, height: outH, transfer: .display, pixels: output.data)
        }
        var pixels = [Float](repeating: 0, count: 3 * outW * outH)
        for c in 0..<3 {
            for y in 0..<outH {
                let s = (c * ph + y) * pw, d = (c * outH + y) * outW
                for x in 0..<outW { pixels[d + x] = output.data[s + x] }
            }
        }
        return RGBImage(width: outW, height: outH, transfer: .display, pixels: pixels)
    }

    /// Maps a coordinate past the end of the image back inside it.
    static func fold(_ i: Int, size: Int, mode: EdgeHandling) -> Int {
        if i < size { return i }
        if mode == .reflect && size > 1 {
            // Mirror without repeating the edge, periodically, so any overhang is defined.
            let period = 2 * (size - 1)
            let r = i % period
            return r < size ? r : period - r
        }
        return size - 1
    }

    /// A (3, height, width) tensor whose pixel (x, y) is the image's pixel `source(x, y)`.
    static func tensor(_ image: RGBImage, width: Int, height: Int, source: (Int, Int) -> (Int, Int)) -> Tensor {
        if width == image.width && height == image.height {
            return Tensor(shape: [3, height, width], data: image.pixels)  // shares the storage, no copy
        }
        var data = [Float](repeating: 0, count: 3 * width * height)
        let plane = image.planeSize
        for y in 0..<height {
            for x in 0..<width {
                let (sx, sy) = source(x, y)
                for c in 0..<3 { data[(c * height + y) * width + x] = image.pixels[c * plane + sy * image.width + sx] }
            }
        }
        return Tensor(shape: [3, height, width], data: data)
    }
}
