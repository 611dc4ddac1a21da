import Foundation
import Testing
import Alignment
import Imaging

@Test func scratchReference() throws {
    let (w, h) = AlignerTests.size
    for seed: UInt64 in [3, 4, 5, 6] {
        let p = AlignerTests.pair(seed: seed)
        let e = Aligner().estimateHomography(source: p.source, target: p.target)
        print("seed", seed, e.homography.worstCornerError(to: p.homography, width: w, height: h))
    }
}
