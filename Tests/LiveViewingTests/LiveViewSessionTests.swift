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
}
