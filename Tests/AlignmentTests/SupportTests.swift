import Foundation
import PairVocabulary
import Testing
import Alignment
import Imaging

@Suite struct HomographyTests {
    @Test func inverseAndComposition() throws {
        let h = try Homography([1.01, 0.02, 5, -0.015, 0.99, -3, 1e-5, -2e-5, 1])
        let inv = try #require(h.inverse)
        let id = h * inv
        #expect(id.worstCornerError(to: .identity, width: 1000, height: 800) < 1e-9)
        let p = h.apply(120, 340), back = inv.apply(p.x, p.y)
        #expect(abs(back.x - 120) < 1e-9 && abs(back.y - 340) < 1e-9)
    }

    @Test func fourPointsDetermineTheMap() throws {
        let h = try Homography([0.98, 0.03, 12, -0.02, 1.02, -7, 2e-5, 1e-5, 1])
        let from = [(0.0, 0.0), (400.0, 0.0), (0.0, 300.0), (400.0, 300.0)]
        let to = from.map { h.apply($0.0, $0.1) }.map { ($0.x, $0.y) }
        let solved = try #require(homographyFromCorrespondences(from, to))
        #expect(solved.worstCornerError(to: h, width: 400, height: 300) < 1e-6)
    }

    @Test func badNumbersAreTypedErrors() {
        #expect(throws: VocabularyError.self) { try Homography([1, 0, 0, 0, 1, 0, 0, 0]) }
        #expect(throws: VocabularyError.self) { try Homography([0, 0, 0, 0, 0, 0, 0, 0, 1]) }
        #expect(throws: VocabularyError.self) { try Homography([1, 0, .nan, 0, 1, 0, 0, 0, 1]) }
    }

    @Test func jsonIsThreeRows() throws {
        let h = Homography.translation(2.5, -1)
        let json = String(decoding: try JSONEncoder().encode(h), as: UTF8.self)
        #expect(json == "[[1,0,2.5],[0,1,-1],[0,0,1]]")
        #expect(try JSONDecoder().decode(Homography.self, from: Data(json.utf8)) == h)
        #expect(try JSONDecoder().decode(Homography.self, from: Data("[1,0,2.5,0,1,-1,0,0,1]".utf8)) == h)
    }
}

@Suite struct CalibrationTests {
    @Test func readsTheAlignmentKeyOfARigFile() throws {
        let json = """
            {"cameras": [{"model": "X"}], "alignment": {"mirror": "horizontal",
              "distortion": {"source": [-0.05, 0.01, 0, 0, 0], "target": {"coefficients": [0.02], "focalLength": 3000}},
              "referenceHomography": [1, 0, 3, 0, 1, -2, 0, 0, 1]}}
            """
        let c = try AlignmentCalibration.decode(Data(json.utf8), path: "rig.json")
        #expect(c.mirror == .horizontal)
        #expect(c.distortion?.source?.coefficients == [-0.05, 0.01, 0, 0, 0])
        #expect(c.distortion?.target?.focalLength == 3000)
        #expect(c.referenceHomography == .translation(3, -2))
    }

    @Test func readsAStandaloneFileAndIgnoresOtherKeys() throws {
        let c = try AlignmentCalibration.decode(Data(#"{"mirror": "vertical", "comment": "x"}"#.utf8), path: "a.json")
        #expect(c.mirror == .vertical && c.distortion == nil && c.referenceHomography == nil)
        let empty = try AlignmentCalibration.decode(Data(#"{"cameras": []}"#.utf8), path: "b.json")
        #expect(empty == AlignmentCalibration())
    }

    @Test func badCalibrationNamesTheFileAndTheField() {
        for bad in [#"{"alignment": {"mirror": "diagonal"}}"#, #"{"alignment": {"referenceHomography": [1, 2]}}"#,
                    #"{"alignment": {"distortion": {"source": []}}}"#, "[1, 2]", "{not json", #"{"alignment": 3}"#] {
            do {
                _ = try AlignmentCalibration.decode(Data(bad.utf8), path: "bad-rig.json")
                Issue.record("accepted \(bad)")
            } catch let AlignmentError.badCalibration(path, _) {
                #expect(path == "bad-rig.json")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    /// The example shipped in calibration/ must stay readable.
    @Test func shippedExampleParses() throws {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir.deleteLastPathComponent()
        }
        let c = try AlignmentCalibration.read(dir.appendingPathComponent("calibration/alignment-example.json"))
        #expect(c.mirror == .horizontal)
        #expect(c.referenceHomography != nil)
    }
}
