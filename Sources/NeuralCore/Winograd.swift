import CKernels
import Foundation
import ThreadSupport

extension Conv2D {
    /// Tiles per unit of work. The products are (out x in) x (in x tiles) sgemms, which run near sgemm's peak only with a
    /// few hundred columns (measured: 128 channels at 32 tiles half as fast as at 80), so units hold about 4 MB of
    /// transformed input and products, at least 64 tiles; L3 serves them when L2 cannot.
    static func winogradTilesPerUnit(inChannels: Int, outChannels: Int) -> Int {
        max(64, (4 << 20) / (36 * (inChannels + outChannels) * 4))
    }

    /// Winograd F(4x4, 3x3): per unit (a run of 4x4 output tiles: part of a tile row, or several whole tile rows side
    /// by side), the input tiles are transformed; then per block of output channels, each of the 36 transform points is
    /// one sgemm (block x in) x (in x tiles), and the products are transformed back into the output with the bias, the
    /// optional accumulation and the activation. Workers take units in turn.
    func runWinograd(_ input: UnsafePointer<Float>, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>,
                     accumulate: Bool, activation: Activation, level: KernelLevel, transformed: [Float]) {
        let (cin, cout) = (inChannels, outChannels)
        let (oh, ow) = (h, w)
        let tilesDown = (oh + 3) / 4, tilesAcross = (ow + 3) / 4
        let target = max(1, winogradUnitTiles ?? Self.winogradTilesPerUnit(inChannels: cin, outChannels: cout))
        let workers = BLASThreads.workers
        // Either several chunks per tile row, or several tile rows per unit, but at least two units per worker to share
        // out (measured on LPIPS: 4 rows of 26 tiles per unit took 0.85x the CPU time of 2 rows).
        let chunksPerRow = max(1, (tilesAcross + target - 1) / target)
        let chunk = (tilesAcross + chunksPerRow - 1) / chunksPerRow
        let rowsPerUnit = max(1, min(chunksPerRow > 1 ? 1 : max(1, target / tilesAcross), tilesDown / (2 * workers)))
        let units = chunksPerRow > 1 ? tilesDown * chunksPerRow : (tilesDown + rowsPerUnit - 1) / rowsPerUnit
        let maxTiles = chunksPerRow > 1 ? chunk : rowsPerUnit * tilesAcross
        let queue = BandQueue(count: units)
        // Blocks of output channels: their 36 products (at most 36 x 32 x the unit's tiles) are read back by the output
        // transform from L2, not L3, as soon as they are formed; and OpenBLAS's SkylakeX build runs products this small
        // (m n k up to 100^3) through its direct kernel, which packs neither matrix (before, packing the weights again
        // for every unit took 7 % of `rigctl metrics`). Measured on LPIPS, whole `rigctl metrics`: 32 (or 48) channels
        // 6-9 % less CPU time than all at once, 16 and 64 about 3 %.
        let block = min(cout, max(1, winogradChannelBlock ?? 32))
        let src = SendablePointer(input)
        let out = SendablePointer(output)
        let (activate, slope): (Int32, Float) = switch activation {
        case .none: (0, 0)
        case .relu: (1, 0)
        case .leakyReLU(let s): (1, s)
        }
        let biasValues = bias?.data
        transformed.withUnsafeBufferPointer { uBuffer in
            let u = SendablePointer(uBuffer.baseAddress!)
            withOptionalBuffer(biasValues) { biasPointer in
                DispatchQueue.concurrentPerform(iterations: min(workers, units)) { _ in
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * cin * maxTiles)
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * block * maxTiles)
                    defer { v.deallocate(); m.deallocate() }
                    while let unit = queue.next() {
                        // The unit's segments (tile row, first tile, tiles), side by side in V and M.
                        var segments: [(ty: Int, tx0: Int, count: Int)] = []
                        if chunksPerRow > 1 {
                            let tx0 = (unit % chunksPerRow) * chunk
                            segments.append((unit / chunksPerRow, tx0, min(chunk, tilesAcross - tx0)))
                        } else {
                            for ty in (unit * rowsPerUnit)..<min(tilesDown, (unit + 1) * rowsPerUnit) {
                                segments.append((ty, 0, tilesAcross))
                            }
                        }
                        let n = segments.reduce(0) { $0 + $1.count }
                        var offset = 0
                        for s in segments {
                            ck_wino_input(level.cValue, src.pointer, Int32(cin), Int32(h), Int32(w), Int32(s.ty),
                                          Int32(s.tx0), Int32(s.count), v + offset, Int32(n))
                            offset += s.count
                        }
                        for o0 in Swift.stride(from: 0, to: cout, by: block) {
                            let oc = min(block, cout - o0)
                            for p in 0..<36 {
                                BLAS.sgemm(m: oc, n: n, k: cin, a: u.pointer + (p * cout + o0) * cin, lda: cin,
                                           b: v + p * cin * n, ldb: n, beta: 0, c: m + p * oc * n, ldc: n)
                            }
                            offset = 0
                            for s in segments {
                                ck_wino_output(level.cValue, m + offset, Int32(n), Int32(oc), Int32(s.count),
                                               biasPointer.map { $0.pointer + o0 }, accumulate ? 1 : 0, activate, slope,
                                               out.pointer + o0 * oh * ow, Int32(oh), Int32(ow), Int32(s.ty), Int32(s.tx0))
                                offset += s.count
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calls `body` with a pointer to the array's elements, or nil for no array, shareable with the workers (they only read).
private func withOptionalBuffer<R>(_ values: [Float]?, _ body: (SendablePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body(SendablePointer($0.baseAddress!)) }
}
