import Foundation
import PairVocabulary
import Testing

@Suite struct HomographyTests {
    @Test func refusesMalformedAndSingularMaps() {
        #expect(throws: VocabularyError.self) { try Homography([1, 0, 0]) }
        #expect(throws: VocabularyError.self) { try Homography([1, 0, 0, 0, 1, 0, 0, 0, .nan]) }
        #expect(throws: VocabularyError.self) { try Homography([1, 2, 3, 2, 4, 6, 0, 0, 1]) }
    }

    @Test func decodesFlatAndRowFormsAndEncodesRows() throws {
        let flat = try JSONDecoder().decode(Homography.self, from: Data("[2,0,1,0,2,3,0,0,1]".utf8))
        let rows = try JSONDecoder().decode(Homography.self, from: Data("[[2,0,1],[0,2,3],[0,0,1]]".utf8))
        #expect(flat == rows)
        let p = flat.apply(1, 1)
        #expect(p.x == 3 && p.y == 5)
        let text = String(decoding: try JSONEncoder().encode(flat), as: UTF8.self)
        #expect(text == "[[2,0,1],[0,2,3],[0,0,1]]")
    }

    @Test func inverseUndoesTheMap() throws {
        let h = try Homography([1.01, 0.02, 3.5, -0.01, 0.99, -2.25, 1e-5, -2e-5, 1])
        let back = try #require(h.inverse)
        let p = h.apply(120, 80), q = back.apply(p.x, p.y)
        #expect(abs(q.x - 120) < 1e-9 && abs(q.y - 80) < 1e-9)
    }
}

@Suite struct StatusTests {
    /// The catalogue, the aligner and the command line share these spellings; changing one breaks old catalogues.
    @Test func spellingsAreTheCatalogues() {
        #expect(Verdict.allCases.map(\.rawValue) == ["accepted", "review", "rejected"])
        #expect(ReviewState.allCases.map(\.rawValue) == ["unreviewed", "approved", "flagged", "rejected"])
        #expect(Split.allCases.map(\.rawValue) == ["train", "test", "unused"])
        #expect(ColourModel.allCases.map(\.rawValue) == ["gain-offset", "affine", "identity"])
    }

    @Test func exportabilityFollowsVerdictAndReview() {
        #expect(Verdict.accepted.isExportable(review: .unreviewed))
        #expect(Verdict.accepted.isExportable(review: .flagged))
        #expect(!Verdict.accepted.isExportable(review: .rejected))
        #expect(!Verdict.review.isExportable(review: .unreviewed))
        #expect(Verdict.review.isExportable(review: .approved))
        #expect(!Verdict.rejected.isExportable(review: .approved))
    }

    @Test func cameraRolesMapOntoShotRoles() {
        #expect(CameraRole.shallow.shot == .source)
        #expect(CameraRole.deep.shot == .target)
        for role in ShotRole.allCases { #expect(CameraRole(shot: role).shot == role) }
    }
}

@Suite struct ColourFitTests {
    @Test func catalogueParametersRoundTrip() throws {
        let fit = ColourFit(model: .affine, matrix: [1, 0.1, 0, 0, 1, 0, 0, 0.2, 1], offset: [0.01, 0, -0.01], residual: 0.003)
        let back = try #require(ColourFit(model: .affine, parameters: fit.parameters, residual: fit.residual))
        #expect(back == fit)
        #expect(ColourFit(model: .affine, parameters: [1, 2, 3], residual: nil) == nil)
        #expect(ColourFit(model: .affine, parameters: Array(repeating: .nan, count: 12), residual: nil) == nil)
    }
}

@Suite struct QualityFiguresTests {
    @Test func figuresKeepOnlyFiniteValuesAndAnImportedSetsOwnNames() {
        let q = QualityFigures(overlap: 0.98, clipped: .nan, correlation: 0.91, maxShift: 0.4)
        #expect(q.values == ["overlap": 0.98, "correlation": 0.91, "maxShift": 0.4])
        #expect(QualityFigures(q.values) == QualityFigures(overlap: 0.98, correlation: 0.91, maxShift: 0.4))
        // An imported set's own figures stay beside the aligner's, by name; a non-finite one is never kept.
        var imported: QualityFigures = ["ecc": 0.97, "sharpnessRatio": .infinity]
        imported.p95Shift = 0.3
        #expect(imported.names == ["ecc", "p95Shift"] && imported["ecc"] == 0.97 && imported.p95Shift == 0.3)
        imported["ecc"] = .nan
        #expect(imported.names == ["p95Shift"])
        // The catalogue's JSON object, as it was.
        let text = String(decoding: try! JSONEncoder().encode(QualityFigures(overlap: 0.5)), as: UTF8.self)
        #expect(text == "{\"overlap\":0.5}")
    }
}

/// Reports and score files carry a protocol as its one-line description; reading the line back gives the protocol.
@Suite struct ScoreProtocolDescriptionTests {
    @Test func everyProtocolReadsBackFromItsLine() {
        for framing in ScoreProtocol.Framing.allCases {
            for outputs in ScoreProtocol.Outputs.allCases {
                for ssim in ScoreProtocol.SSIMConvention.allCases {
                    for (depth, lpips) in [(16, ScoreProtocol.lpipsV01Alex), (8, nil), (0, nil)] as [(Int, String?)] {
                        for release in [RigctlRelease.number, "before v4-score-protocol (protocol inferred)", "0.1.0, patched"] {
                            let p = ScoreProtocol(framing: framing, bitDepth: depth, ssim: ssim, outputs: outputs,
                                                  lpips: lpips, rigctlVersion: release)
                            #expect(ScoreProtocol(described: p.description) == p, "\(p)")
                        }
                    }
                }
            }
        }
        #expect(ScoreProtocol(described: "as read from the files") == nil)
        #expect(ScoreProtocol(described: "whole image, 12 bits, SSIM gaussian-11x11, LPIPS none, rigctl 0.1.0") == nil)
        #expect(ScoreProtocol(framing: .cropToMultipleOf8, bitDepth: 8, outputs: .asProduced, lpips: nil).description
                == "cropped to multiples of 8, 8-bit, outputs as produced, SSIM skimage-uniform-7x7, LPIPS none, rigctl \(RigctlRelease.number)")
    }

    /// Catalogue rows are always quantised: their stored JSON has no `outputs` key, and reads back as quantised.
    @Test func quantisedOutputsAreLeftOutOfTheJSON() throws {
        let quantised = ScoreProtocol(framing: .whole, bitDepth: 16, lpips: nil)
        let text = String(decoding: try JSONEncoder().encode(quantised), as: UTF8.self)
        #expect(!text.contains("outputs"))
        #expect(try JSONDecoder().decode(ScoreProtocol.self, from: Data(text.utf8)) == quantised)
        let produced = ScoreProtocol(framing: .whole, bitDepth: 8, outputs: .asProduced, lpips: nil)
        #expect(try JSONDecoder().decode(ScoreProtocol.self, from: try JSONEncoder().encode(produced)) == produced)
    }
}
