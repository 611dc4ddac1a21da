import TestSupport
import Foundation
import Imaging
import Testing
import VirtualCamera

@Suite struct RendererTests {
    let settings = ExposureSettings(fNumber: 2, exposureTime: 1.0 / 500, iso: 100, focusDistance: 2.5)

    /// Mean absolute horizontal gradient of the green channel in a rectangle: a sharpness measure.
    func sharpness(_ image: RGBImage, x0: Int, x1: Int, y0: Int, y1: Int) -> Double {
        var sum = 0.0, n = 0
        for y in y0..<y1 {
            for x in x0..<(x1 - 1) {
                sum += Double(abs(image[1, x + 1, y] - image[1, x, y]))
                n += 1
            }
        }
        return sum / Double(n)
    }

    @Test func blurDiameterFollowsThinLens() {
        let r = FrameRenderer(character: CameraCharacter(), width: 1200, height: 800)
        #expect(r.blurDiameter(distance: 2.5, settings: settings) < 1e-9, "the focus plane is sharp")
        let wide = r.blurDiameter(distance: 12, settings: settings)
        var stopped = settings
        stopped.fNumber = 16
        let narrow = r.blurDiameter(distance: 12, settings: stopped)
        #expect(abs(wide / narrow - 8) < 1e-9, "blur scales with the aperture diameter")
        // 50 mm at f/2 focused at 2.5 m, object at 12 m, 36 mm sensor over 1200 px: 0.404 mm = 13.5 px.
        #expect(abs(wide - 13.46) < 0.05)
        #expect(r.blurDiameter(distance: 1.5, settings: settings) > r.blurDiameter(distance: 2, settings: settings))
    }

    @Test func wideApertureBlursOutOfFocusPlanes() {
        let scene = Scene.builtIn(.planes, width: 480, height: 320)
        let r = FrameRenderer(character: CameraCharacter(), width: 480, height: 320)
        let shallow = r.renderLinear(scene, settings: settings)
        var deepSettings = settings
        deepSettings.fNumber = 16
        deepSettings.exposureTime = 1.0 / 125
        deepSettings.iso = 1600
        let deep = r.renderLinear(scene, settings: deepSettings)
        // The background (12 m) in the top-left corner is out of focus; the 2.5 m checker plane in focus.
        let farShallow = sharpness(shallow, x0: 5, x1: 90, y0: 5, y1: 55)
        let farDeep = sharpness(deep, x0: 5, x1: 90, y0: 5, y1: 55)
        #expect(farShallow < farDeep * 0.5, "far plane: \(farShallow) at f/2 vs \(farDeep) at f/16")
        let focusShallow = sharpness(shallow, x0: 150, x1: 260, y0: 110, y1: 200)
        let focusDeep = sharpness(deep, x0: 150, x1: 260, y0: 110, y1: 200)
        #expect(abs(focusShallow - focusDeep) < 0.15 * focusDeep, "in-focus plane: \(focusShallow) vs \(focusDeep)")
        // Matched exposures (f/2 1/500 ISO 100 and f/16 1/125 ISO 1600) give the same brightness.
        let meanShallow = shallow.pixels.reduce(0, +) / Float(shallow.pixels.count)
        let meanDeep = deep.pixels.reduce(0, +) / Float(deep.pixels.count)
        #expect(abs(meanShallow - meanDeep) < 0.02 * meanDeep)
    }

    @Test func mirroredCameraFlipsLeftRight() {
        let scene = Scene.builtIn(.cards, width: 200, height: 120)
        let plain = FrameRenderer(character: CameraCharacter(), width: 200, height: 120).renderLinear(scene, settings: settings)
        let mirrored = FrameRenderer(character: CameraCharacter(mirrored: true), width: 200, height: 120).renderLinear(scene, settings: settings)
        var maxDifference: Float = 0
        for c in 0..<3 {
            for y in 0..<120 {
                for x in 0..<200 { maxDifference = max(maxDifference, abs(plain[c, x, y] - mirrored[c, 199 - x, y])) }
            }
        }
        #expect(maxDifference < 1e-5)
        #expect(plain != mirrored)
    }

    @Test func cameraOffsetShiftsTheView() {
        let scene = Scene.builtIn(.planes, width: 240, height: 160)
        var s = settings
        s.fNumber = 22
        let base = FrameRenderer(character: CameraCharacter(), width: 240, height: 160).renderLinear(scene, settings: s)
        let shifted = FrameRenderer(character: CameraCharacter(offsetX: 4, offsetY: 0), width: 240, height: 160).renderLinear(scene, settings: s)
        // Content moves right by 4 pixels.
        var difference: Float = 0
        for y in 20..<140 {
            for x in 20..<200 { difference = max(difference, abs(shifted[1, x + 4, y] - base[1, x, y])) }
        }
        #expect(difference < 0.02)
    }

    @Test func builtInScenesAreTexturedEverywhere() {
        for kind in BuiltInScene.allCases {
            let scene = Scene.builtIn(kind, width: 320, height: 240)
            #expect(scene.depth.min()! > 0.5 && scene.depth.max()! / scene.depth.min()! > 3, "\(kind) spans several depths")
            // Every 16x16 block has visible texture (no flat colour for alignment to slip on).
            var flatBlocks = 0
            for by in stride(from: 0, to: 240, by: 16) {
                for bx in stride(from: 0, to: 320, by: 16) {
                    var values: [Float] = []
                    for y in by..<(by + 16) { for x in bx..<(bx + 16) { values.append(scene.image[1, x, y]) } }
                    let mean = values.reduce(0, +) / Float(values.count)
                    let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
                    if sd < 0.004 { flatBlocks += 1 }
                }
            }
            #expect(flatBlocks == 0, "\(kind): \(flatBlocks) flat blocks")
            #expect(Scene.builtIn(kind, width: 320, height: 240).image == scene.image, "scenes are deterministic")
        }
    }

    @Test func userSceneMapsDepthLinearly() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var image = RGBImage(width: 8, height: 4)
        var depth = RGBImage(width: 8, height: 4)
        for y in 0..<4 {
            for x in 0..<8 {
                for c in 0..<3 { image[c, x, y] = Float(x + y) / 12; depth[c, x, y] = Float(x) / 7 }
            }
        }
        try PNGFile.write(image, to: dir.appendingPathComponent("i.png"), bitDepth: 16)
        try PNGFile.write(depth, to: dir.appendingPathComponent("d.png"), bitDepth: 16)
        let scene = try Scene.load(image: dir.appendingPathComponent("i.png"), depth: dir.appendingPathComponent("d.png"), near: 1, far: 8)
        #expect(abs(scene.depth[0] - 1) < 1e-3 && abs(scene.depth[7] - 8) < 1e-3)
        #expect(scene.image.transfer == .linear)

        let small = RGBImage(width: 4, height: 4)
        try PNGFile.write(small, to: dir.appendingPathComponent("small.png"))
        #expect(throws: VirtualCameraError.self) {
            try Scene.load(image: dir.appendingPathComponent("i.png"), depth: dir.appendingPathComponent("small.png"))
        }
        #expect(throws: ImagingError.self) {
            try Scene.load(image: dir.appendingPathComponent("missing.png"), depth: dir.appendingPathComponent("d.png"))
        }
    }

    @Test func bayerFramesAreNoisyDNGsThatDecode() throws {
        let scene = Scene.builtIn(.slope, width: 320, height: 240)
        let r = FrameRenderer(character: CameraCharacter(noiseSeed: 5), width: 320, height: 240)
        let a = r.renderBayer(scene, settings: settings, shot: 1)
        let b = r.renderBayer(scene, settings: settings, shot: 2)
        #expect(a.samples != b.samples, "every shot has its own noise")
        #expect(a.width == 320 && a.height == 240 && a.whiteLevel == 16383)
        let metadata = CaptureMetadata(make: "rigctl", model: "Virtual", aperture: 2, exposureTime: 1.0 / 500, iso: 100)
        let data = DNGWriter.encode(a, metadata: metadata)
        let (image, read) = try RawDecoder().decode(data, path: "frame.dng")
        #expect(image.width == 320 && image.height == 240)
        #expect(read.aperture == 2 && read.iso == 100)
        // The decoded frame follows the noiseless render (same scale, little noise at ISO 100).
        let linear = r.renderLinear(scene, settings: settings)
        let meanDecoded = image.pixels.reduce(0, +) / Float(image.pixels.count)
        let meanLinear = linear.pixels.reduce(0, +) / Float(linear.pixels.count)
        #expect(abs(meanDecoded - meanLinear) < 0.1 * meanLinear, "decoded \(meanDecoded) vs rendered \(meanLinear)")
    }
}
