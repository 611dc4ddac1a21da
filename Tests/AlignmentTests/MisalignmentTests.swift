import Foundation
import Imaging
import PairVocabulary
import Testing
import Alignment

/// `measureMisalignment`: the map a viewer redraws from a stored (aligned, cropped) pair must be the one `align`
/// measured, and must find a shifted region where it is.
@Suite struct MisalignmentTests {
    /// The aligner's own figures, measured again from its aligned images alone: the same report, block for block.
    @Test func theStoredPairGivesTheAlignersMap() throws {
        let (w, h) = AlignerTests.size
        let moving = SyntheticPair.MovingObject(centre: (Double(w) * 0.25, Double(h) * 0.5), radius: 45,
                                                displacement: (5, 3))
        let p = AlignerTests.pair(moving: moving)
        let result = try Aligner().align(source: p.source, target: p.target)
        let aligned = try #require(result.quality.misalignment)
        let source = try #require(result.alignedSource), target = try #require(result.alignedTarget)
        let again = try measureMisalignment(source: source, target: target)
        #expect(again == aligned)
        #expect(!again.misaligned.isEmpty)
    }

    /// The aligner measures only blocks that are sharp and textured by its tests (about 40% of this texture's);
    /// this one (seed 21 enlarged 3x, 224x168: 9 x 7 blocks of 24 px) has a measurable 3x3 patch at columns 2-4,
    /// rows 1-3.
    static func texture(shiftingPatchBy shift: Double) -> RGBImage {
        ProceduralTexture(seed: 21).render(width: 224, height: 168) { x, y in
            ((x + ((48..<120).contains(Int(x)) && (24..<96).contains(Int(y)) ? shift : 0)) / 3, y / 3)
        }
    }

    /// The target shifted by 1.5 px in the patch: every block of the patch measures the shift and fails, every
    /// other measured block measures none.
    @Test func aShiftedPatchIsFoundWhereItIs() throws {
        let report = try measureMisalignment(source: Self.texture(shiftingPatchBy: 0), target: Self.texture(shiftingPatchBy: 1.5))
        #expect(report.blockSize == 24 && report.columns == 9 && report.rows == 7)
        var others = 0
        for (row, cells) in report.map.enumerated() {
            for (column, cell) in cells.enumerated() {
                if (2...4).contains(column) && (1...3).contains(row) {
                    let value = try #require(cell, "block (\(column), \(row)) of the patch is not measured")
                    #expect(abs(value - 1.5) < 0.25, "block (\(column), \(row)): \(value) px")
                } else if let cell {
                    others += 1
                    #expect(cell < 0.2, "block (\(column), \(row)): \(cell) px")
                }
            }
        }
        #expect(others >= 12)
        let failing = Set(report.misaligned.map { [$0.x, $0.y] })
        #expect(failing == Set((1...3).flatMap { r in (2...4).map { [$0 * 24, r * 24] } }))
        for b in report.misaligned { #expect(abs(abs(b.dx) - 1.5) < 0.25 && abs(b.dy) < 0.25, "block at \(b.x),\(b.y): \(b.dx), \(b.dy)") }
        #expect(report.maxShift > 1.25 && report.medianShift < 0.2)
    }

    /// The same texture unshifted: the same blocks measured, none shifted, none failing.
    @Test func anExactPairHasNoMisalignedBlock() throws {
        let image = Self.texture(shiftingPatchBy: 0)
        let exact = try measureMisalignment(source: image, target: image)
        let shifted = try measureMisalignment(source: image, target: Self.texture(shiftingPatchBy: 1.5))
        #expect(exact.measured == shifted.measured && exact.measured >= 21)
        #expect(exact.misaligned.isEmpty)
        #expect(exact.maxShift < 0.01)
    }

    @Test func imagesOfDifferentSizesAreAnError() throws {
        let texture = ProceduralTexture(seed: 21)
        let source = texture.render(width: 240, height: 192) { ($0, $1) }
        let target = texture.render(width: 232, height: 192) { ($0, $1) }
        #expect(throws: AlignmentError.self) { try measureMisalignment(source: source, target: target) }
    }
}
