import NeuralCore

/// Runs an image-to-image network tile by tile, so that images too large for memory can be processed.
///
/// The image is cut into a grid of `tileSize` x `tileSize` cores; each tile is its core plus `overlap` pixels of
/// context on every side (less at the image border), and only the core of each tile's output is kept. Origins and
/// sizes stay multiples of 8, so the tiles see the same 1/8-scale grid as the whole image. IFAN's receptive field
/// at 1/8 scale is wide (17 IAC iterations alone reach 136 pixels), so the overlap trades accuracy for time; the
/// benchmark measures the PSNR of tiled against whole-image output for a few overlaps.
public struct TiledInference: Sendable, Equatable {
    public var tileSize: Int
    public var overlap: Int

    public init(tileSize: Int = 512, overlap: Int = 128) throws {
        guard tileSize >= 8, tileSize % 8 == 0 else { throw IFANError.badInput("tile size must be a positive multiple of 8, got \(tileSize)") }
        guard overlap >= 0, overlap % 8 == 0 else { throw IFANError.badInput("tile overlap must be a multiple of 8, got \(overlap)") }
        self.tileSize = tileSize
        self.overlap = overlap
    }

    /// Whether an image of this size is cut at all (it is not when one tile with its context covers it).
    public func needsTiling(width: Int, height: Int) -> Bool {
        width > tileSize + 2 * overlap || height > tileSize + 2 * overlap
    }

    /// How many times `run` calls its body for an image of this size.
    public func tileCount(width: Int, height: Int) -> Int {
        guard needsTiling(width: width, height: height) else { return 1 }
        return ((height + tileSize - 1) / tileSize) * ((width + tileSize - 1) / tileSize)
    }

    /// Applies `body` to (C, H, W) `input`, tile by tile; `body` must map a (C, h, w) tile to a (C', h, w) output.
    public func run(_ input: Tensor, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
        guard input.rank == 3 else { throw IFANError.badInput("tiling expects a (C, H, W) tensor, got \(input.shape)") }
        let (c, h, w) = (input.shape[0], input.shape[1], input.shape[2])
        guard needsTiling(width: w, height: h) else { return try body(input) }
        var output: Tensor? = nil
        var y0 = 0
        while y0 < h {
            let coreH = min(tileSize, h - y0)
            var x0 = 0
            while x0 < w {
                let coreW = min(tileSize, w - x0)
                let ty = max(0, y0 - overlap), tx = max(0, x0 - overlap)
                let th = min(h, y0 + coreH + overlap) - ty, tw = min(w, x0 + coreW + overlap) - tx
                var tile = [Float](repeating: 0, count: c * th * tw)
                input.data.withUnsafeBufferPointer { src in
                    for ch in 0..<c {
                        for row in 0..<th {
                            let s = (ch * h + ty + row) * w + tx, d = (ch * th + row) * tw
                            for i in 0..<tw { tile[d + i] = src[s + i] }
                        }
                    }
                }
                let result = try body(Tensor(shape: [c, th, tw], data: tile))
                guard result.rank == 3, result.shape[1] == th, result.shape[2] == tw else {
                    throw IFANError.badInput("tile output \(result.shape) does not match its \(tw)x\(th) input")
                }
                let oc = result.shape[0]
                if output == nil { output = Tensor(zeros: [oc, h, w]) }
                guard output!.shape[0] == oc else { throw IFANError.badInput("tiles gave different channel counts") }
                output!.data.withUnsafeMutableBufferPointer { dst in
                    for ch in 0..<oc {
                        for row in 0..<coreH {
                            let s = (ch * th + (y0 - ty) + row) * tw + (x0 - tx), d = (ch * h + y0 + row) * w + x0
                            for i in 0..<coreW { dst[d + i] = result.data[s + i] }
                        }
                    }
                }
                x0 += tileSize
            }
            y0 += tileSize
        }
        return output!
    }
}
