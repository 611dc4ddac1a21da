import Foundation
import Metrics
import NeuralCore
import Testing

/// The ECC iteration's C kernels (`ck_ecc_warp_row`, `ck_ecc_row_moments`) at every instruction set this CPU runs:
/// each finds the shift a synthetic pair was made with, and they agree with the baseline copy (they differ only in
/// the order their vector loops add). ProtocolParityTests checks the same path against OpenCV's own homographies.
@Suite struct ECCKernelTests {
    static func plane(width: Int, height: Int, shiftX: Double, shiftY: Double) -> [Float] {
        var values = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) - shiftX, v = Double(y) - shiftY
                values[y * width + x] = Float(0.5 + 0.2 * sin(0.31 * u + 0.12 * v) + 0.15 * cos(0.17 * v - 0.06 * u)
                                              + 0.08 * sin(0.05 * u * 0.9 + 0.43 * v))
            }
        }
        return values
    }

    @Test func everyInstructionSetFindsTheShiftAndAgrees() throws {
        let (w, h) = (97, 81)
        let template = Self.plane(width: w, height: h, shiftX: 0, shiftY: 0)
        // The input shows the scene moved by (0.6, -0.35) px, so the map takes template pixels to x + 0.6, y - 0.35.
        let input = Self.plane(width: w, height: h, shiftX: 0.6, shiftY: -0.35)
        let levels = KernelLevel.allCases.filter { $0 <= Kernels.choice.level }
        #expect(levels.first == .baseline)
        var maps: [KernelLevel: [Float]] = [:]
        for level in levels {
            let map = try ECCHomography.find(template: template, input: input, width: w, height: h, iterations: 40,
                                                level: level)
            maps[level] = map
            // The centre moves by the shift (a homography fitted to a small pair also bends its corners a little).
            let d = map.map(Double.init), (cx, cy) = (Double(w - 1) / 2, Double(h - 1) / 2)
            let z = d[6] * cx + d[7] * cy + d[8]
            let (mx, my) = ((d[0] * cx + d[1] * cy + d[2]) / z, (d[3] * cx + d[4] * cy + d[5]) / z)
            #expect(abs(mx - cx - 0.6) < 0.02 && abs(my - cy + 0.35) < 0.02, "\(level): \(map)")
        }
        let baseline = try #require(maps[.baseline])
        for (level, map) in maps {
            for (x, y) in [(0.0, 0.0), (Double(w - 1), 0), (0, Double(h - 1)), (Double(w - 1), Double(h - 1))] {
                func apply(_ m: [Float]) -> (Double, Double) {
                    let d = m.map(Double.init)
                    let s = d[6] * x + d[7] * y + d[8]
                    return ((d[0] * x + d[1] * y + d[2]) / s, (d[3] * x + d[4] * y + d[5]) / s)
                }
                let (a, b) = (apply(map), apply(baseline))
                #expect(abs(a.0 - b.0) < 1e-4 && abs(a.1 - b.1) < 1e-4, "\(level) corner (\(x), \(y)): \(a) vs \(b)")
            }
        }
    }

    /// An input that does not overlap the template (all of it moved out of view) is the degenerate error, not a
    /// crash or a made-up homography.
    @Test func noOverlapIsAnError() {
        let template = Self.plane(width: 40, height: 30, shiftX: 0, shiftY: 0)
        let blank = [Float](repeating: 0, count: 40 * 30)
        #expect(throws: ECCError.self) {
            try ECCHomography.find(template: template, input: blank, width: 40, height: 30, iterations: 5,
                                   level: Kernels.choice.level)
        }
    }
}
