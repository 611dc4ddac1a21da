import Foundation
import PairVocabulary
import Testing

/// The calibration value every module shares: its reference homography carried from the frames it was measured
/// on (live views) to the photographs, and its canonical text.
@Suite struct CalibrationTests {
    /// A reference measured between small frames maps the photographs' pixels as the same geometry measured on them.
    @Test func aReferenceMeasuredOnLiveViewsScalesToThePhotographs() throws {
        let photo = FrameSize(width: 1200, height: 800)
        // The truth at photograph size: mirrored, shifted, slightly rotated and scaled.
        let truth = try Homography([-1, 0, 1199, 0, 1, 0, 0, 0, 1])
            * Homography.similarity(degrees: 0.3, scale: 1.004, centre: (599.5, 399.5), translation: (3.5, -2.25))
        // The same geometry between 300x200 and 240x160 live views (pixel centres kept).
        func scaling(from: FrameSize, to: FrameSize) -> Homography {
            let sx = Double(to.width) / Double(from.width), sy = Double(to.height) / Double(from.height)
            return Homography(unchecked: [sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0, 1])
        }
        let shallowView = FrameSize(width: 300, height: 200), deepView = FrameSize(width: 240, height: 160)
        let measured = scaling(from: photo, to: deepView) * truth * scaling(from: shallowView, to: photo)
        let calibration = AlignmentCalibration(mirror: .horizontal, referenceHomography: measured,
                                               referenceFrames: .init(source: shallowView, target: deepView))
        let scaled = try #require(calibration.reference(source: photo, target: photo))
        #expect(scaled.worstCornerError(to: truth, width: 1200, height: 800) < 1e-6, "\(scaled) vs \(truth)")
        // Without frames the homography is the photographs' own.
        #expect(AlignmentCalibration(referenceHomography: truth).reference(source: photo, target: photo) == truth)
        // A live view of another shape (16:9 on a 3:2 sensor) is a crop a scaling cannot carry: no reference.
        #expect(calibration.reference(source: FrameSize(width: 1920, height: 1080), target: photo) == nil)
    }

    /// Equal calibrations are equal text (the catalogue compares them in SQL), and the text reads back as the value.
    @Test func theCanonicalTextRoundTrips() throws {
        let calibration = AlignmentCalibration(
            mirror: .vertical, distortion: .init(source: LensDistortion(coefficients: [-0.01, 0.002], centre: [10, 20])),
            referenceHomography: .translation(3, -2),
            referenceFrames: .init(source: FrameSize(width: 64, height: 48), target: FrameSize(width: 64, height: 48)))
        let text = calibration.canonicalJSON
        #expect(try JSONDecoder().decode(AlignmentCalibration.self, from: Data(text.utf8)) == calibration)
        #expect(text.contains("\"referenceFrames\":{\"source\":[64,48],\"target\":[64,48]}"), "\(text)")
        #expect(AlignmentCalibration().canonicalJSON == "{\"mirror\":\"none\"}")
    }

    @Test func aBadCalibrationNamesWhatIsWrong() {
        for (json, words) in [(#"{"distortion": {"target": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}}"#, "1 to 5 finite coefficients"),
                              (#"{"referenceHomography": [1, 0, 0, 0, 1, 0, 0, 0, 1], "referenceFrames": {"source": [0, 5], "target": [4, 4]}}"#, "both positive"),
                              (#"{"referenceFrames": {"source": [4, 4], "target": [4, 4]}}"#, "without a referenceHomography")] {
            do {
                _ = try JSONDecoder().decode(AlignmentCalibration.self, from: Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch let error as DecodingError {
                #expect(error.located.contains(words), "\(error.located)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

/// `--split` of export and evaluate: a split or every split, one type with `Split`.
@Suite struct SplitSelectionTests {
    @Test func namesReadBackAndSayWhichSplitsTheyTake() {
        #expect(SplitSelection.allCases.map(\.rawValue) == ["test", "train", "unused", "all"])
        for selection in SplitSelection.allCases { #expect(SplitSelection(rawValue: selection.rawValue) == selection) }
        #expect(SplitSelection(rawValue: "validation") == nil)
        #expect(SplitSelection.only(.train).splits == [.train] && SplitSelection.all.splits == nil)
    }
}
