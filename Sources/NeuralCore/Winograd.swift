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
    /// by side), the input tiles are transformed, each of the 36 transform points is one sgemm (out x in) x (in x tiles),
    /// and the products are transformed back into the output with the bias, the optional accumulation and the
    /// activation. Workers take units in turn.
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
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * cout * maxTiles)
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
                        for p in 0..<36 {
                            BLAS.sgemm(m: cout, n: n, k: cin, a: u.pointer + p * cout * cin, lda: cin,
                                       b: v + p * cin * n, ldb: n, beta: 0, c: m + p * cout * n, ldc: n)
                        }
                        offset = 0
                        for s in segments {
                            ck_wino_output(level.cValue, m + offset, Int32(n), Int32(cout), Int32(s.count), biasPointer?.pointer,
                                           accumulate ? 1 : 0, activate, slope, out.pointer, Int32(oh), Int32(ow), Int32(s.ty),
                                           Int32(s.tx0))
                            offset += s.count
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
