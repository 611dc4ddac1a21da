import Foundation
import PairVocabulary
import Testing
import Alignment
import Imaging

/// The live-view overlays and the coarse registration, on images whose answer is known.
@Suite struct LiveViewTests {
    func flat(_ v: Float, width: Int = 64, height: Int = 48) -> RGBImage {
        RGBImage(width: width, height: height, transfer: .linear, pixels: [Float](repeating: v, count: 3 * width * height))
    }

    @Test func checkerboardAlternatesTilesOfEachView() {
        let a = flat(0.2), b = flat(0.8)
        // 48 / 8 = 6, raised to the 8 px minimum: 8 px tiles, the top-left one from the shallow view.
        let board = LiveViewImages.overlay(.checkerboard, a, b)
        #expect(board.width == 64 && board.height == 48)
        for (x, y, v) in [(0, 0, Float(0.2)), (7, 7, 0.2), (8, 0, 0.8), (0, 8, 0.8), (8, 8, 0.2), (63, 47, 0.2), (56, 40, 0.2), (55, 40, 0.8)] {
            for ch in 0..<3 { #expect(board[ch, x, y] == v, "(\(x), \(y)) channel \(ch)") }
        }
        let tiles = LiveViewImages.checkerboard(a, b, tile: 16)
        #expect(tiles[0, 15, 0] == 0.2 && tiles[0, 16, 0] == 0.8)
        #expect(LiveViewImages.Overlay(rawValue: "checkerboard") == .checkerboard && LiveViewImages.Overlay(rawValue: "x") == nil)
        // The difference overlay is |a - b| x4, clipped at 1.
        let difference = LiveViewImages.overlay(.difference, a, flat(0.3))
        #expect(abs(difference[1, 10, 10] - 0.4) < 1e-6)
        #expect(LiveViewImages.overlay(.difference, a, b)[0, 0, 0] == 1)
    }

    /// A chart and the same chart shifted, rotated and scaled by a known similarity: the coarse registration at
    /// 240 px recovers it from 480x320 frames, in the frames' own pixels.
    @Test func coarseRegistrationRecoversAKnownSimilarity() throws {
        let source = TestChart.render(width: 480, height: 320)
        let truth = Homography.similarity(degrees: 0.4, scale: 1.005, centre: (239.5, 159.5), translation: (3.2, -1.6))
        let inverse = try #require(truth.inverse)
        var target = RGBImage(width: 480, height: 320, transfer: source.transfer)
        for y in 0..<320 {
            for x in 0..<480 {
                let p = inverse.apply(Double(x), Double(y))
                let sx = min(max(p.x, 0), 479), sy = min(max(p.y, 0), 319)
                let x0 = Int(sx), y0 = Int(sy), x1 = min(x0 + 1, 479), y1 = min(y0 + 1, 319)
                let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                for ch in 0..<3 {
                    let top = source[ch, x0, y0] * (1 - fx) + source[ch, x1, y0] * fx
                    let bottom = source[ch, x0, y1] * (1 - fx) + source[ch, x1, y1] * fx
                    target[ch, x, y] = top * (1 - fy) + bottom * fy
                }
            }
        }
        let result = try LiveViewRegistration().register(source: source, target: target)
        let m = LiveViewMeasurement(result.homography, width: 480, height: 320, frame: 1, sensorScale: 1, correlation: result.correlation)
        #expect(result.failure == nil)
        #expect(abs(m.shiftX - 3.2) < 0.15 && abs(m.shiftY + 1.6) < 0.15, "shift \(m.shiftX), \(m.shiftY)")
        #expect(abs(m.rotationDegrees - 0.4) < 0.03, "rotation \(m.rotationDegrees)")
        #expect(abs(m.scale - 1.005) < 0.001, "scale \(m.scale)")
        // Carried back to 480x320 pixels (a map left at 240 px would be off by tens of pixels at the corners; the
        // half-pixel terms by 0.5 px everywhere, which the centre's bound above catches). Coarse: measured 0.4 px.
        for (x, y) in [(0.0, 0.0), (479.0, 0.0), (0.0, 319.0), (479.0, 319.0)] {
            let a = result.homography.apply(x, y), b = truth.apply(x, y)
            #expect(abs(a.x - b.x) < 0.75 && abs(a.y - b.y) < 0.75, "corner (\(x), \(y)): \(a) for \(b)")
        }
    }
}
