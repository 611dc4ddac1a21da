import Alignment
import Imaging
import LiveViewing
import PairVocabulary
import Testing

/// The live-view figures `rigctl rig liveview` prints, tested without a rig or the binary.
@Suite struct LiveViewSessionTests {
    @Test func sensorPixelsScaleTheViewOfTheCameraTheWidthBelongsTo() {
        let shallow = RGBImage(width: 600, height: 400), deep = RGBImage(width: 480, height: 320)
        // --sensor-width applies to the shallow view; a camera's image size to that camera's view.
        #expect(SensorScale(width: 6000, role: nil, source: "--sensor-width").factor(shallow: shallow, deep: deep) == 10)
        #expect(SensorScale(width: 6000, role: .deep, source: "deep").factor(shallow: shallow, deep: deep) == 12.5)
        #expect(SensorScale(width: 6000, role: .shallow, source: "shallow").factor(shallow: shallow, deep: deep) == 10)
        #expect(SensorScale.note(SensorScale(width: 6000, role: .deep, source: "deep camera's imagesize 6000x4000"))
                == "offsets in full-sensor pixels (deep camera's imagesize 6000x4000)")
        #expect(SensorScale.note(nil).hasPrefix("offsets in live-view pixels: neither camera reports its image size"))
    }

    @Test func theLineNamesTheFrameItsGeometryAndItsFocus() throws {
        // The deep view shifted 3 px right and 2 px down of the shallow one, at twice the live view's pixels.
        let h = try Homography([1, 0, 3, 0, 1, 2, 0, 0, 1])
        var m = LiveViewMeasurement(h, width: 480, height: 320, frame: 7, sensorScale: 2, correlation: 0.987)
        let image = RGBImage(width: 480, height: 320)
        var frame = LiveViewFrame(shallow: image, deep: image, measurement: m, overlay: .difference)
        #expect(frame.line == "frame 7: shift +6.00, +4.00 px  rotation +0.000 deg  scale 1.0000  (correlation 0.987)")
        m.sharpnessRatio = 1.25
        frame.measurement = m
        #expect(frame.line.hasSuffix("(correlation 0.987)  sharpness shallow/deep 1.250"), "\(frame.line)")
    }

    /// A correlation too low to mean anything is explained, not printed as an offset (0.009 printed a 70 px shift).
    @Test func aMeaninglessRegistrationIsExplainedNotPrinted() throws {
        let h = try Homography([1, 0, 27.84, 0, 1, 69.65, 0, 0, 1])
        let m = LiveViewMeasurement(h, width: 480, height: 320, frame: 2, sensorScale: 1, correlation: 0.009)
        let image = RGBImage(width: 480, height: 320)
        let line = LiveViewFrame(shallow: image, deep: image, measurement: m, overlay: .difference).line
        #expect(line.hasPrefix("frame 2: no reliable offset (correlation 0.009"), "\(line)")
        #expect(!line.contains("27.84") && line.contains("alignment.mirror"), "\(line)")
    }

    /// A textured view and its mirror image: the probe finds the mirror that registers them, and is certain.
    @Test func theProbeFindsTheMirrorThatRegisters() {
        var shallow = RGBImage(width: 240, height: 160)
        for y in 0..<160 { for x in 0..<240 {
            // Blocks of random grey, 8 px across, so the coarse registration has structure at every level.
            var h = UInt64(x / 8) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(y / 8) &* 0xC2B2_AE3D_27D4_EB4F
            h ^= h >> 29
            h = h &* 0xBF58_476D_1CE4_E5B9
            let v = Float(h >> 56) / 255
            for c in 0..<3 { shallow[c, x, y] = v }
        } }
        for mirror in [Mirror.horizontal, .vertical, .none] {
            let deep = LiveViewImages.flipped(shallow, mirror)
            let finding = MirrorProbe().find(shallow: shallow, deep: deep)
            #expect(finding.mirror == mirror && finding.isCertain, "\(mirror): \(finding.description)")
        }
    }
}
