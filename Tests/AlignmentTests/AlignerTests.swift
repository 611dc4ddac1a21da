import Foundation
import PairVocabulary
import Testing
import Alignment
import Imaging

/// Synthetic pairs rendered through known homographies (procedural texture, so no resampling error in the ground
/// truth), with defocus on part of the source, per-channel gain/offset and noise.
@Suite struct AlignerTests {
    static let size = (600, 400)

    static func geometry(_ w: Int, _ h: Int, degrees: Double = 0.6, scale: Double = 1.006,
                         shift: (Double, Double) = (6.3, -3.7)) -> Homography {
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        let sim = Homography.similarity(degrees: degrees, scale: scale, centre: (cx, cy), translation: shift)
        let persp = (try? Homography([1, 0, 0, 0, 1, 0, 4e-6, -3e-6, 1])) ?? .identity
        return sim * .translation(cx, cy) * persp * .translation(-cx, -cy)
    }

    static let gain = [0.92, 1.04, 1.08], offset = [0.03, -0.01, 0.005]

    static func pair(seed: UInt64 = 3, targetSeed: UInt64? = nil, moving: SyntheticPair.MovingObject? = nil,
                     defocus: Int = 4) -> SyntheticPair {
        let (w, h) = size
        return SyntheticPair.make(width: w, height: h, homography: geometry(w, h), defocusRadius: defocus,
                                  defocusFrom: 0.55, gain: gain, offset: offset, noise: 0.005, seed: seed,
                                  targetSeed: targetSeed, movingObject: moving)
    }

    /// Defocus (radius 4 on 45% of the frame), colour and noise on a small pair: a few hundredths of a pixel.
    @Test func recoversTheHomographyToAFractionOfAPixel() throws {
        let p = Self.pair()
        let result = try Aligner().align(source: p.source, target: p.target)
        let error = result.homography.worstCornerError(to: p.homography, width: Self.size.0, height: Self.size.1)
        #expect(error < 0.08, "worst corner error \(error) px")
        #expect(result.verdict == .accepted, "\(result.reasons)")
        #expect(result.reasons.isEmpty)
    }

    /// Without defocus the same small pair is registered to about 0.01-0.02 px.
    @Test func sharpPairIsRegisteredToAHundredthOfAPixel() throws {
        let (w, h) = Self.size
        for seed: UInt64 in [3, 4] {
            let p = Self.pair(seed: seed, defocus: 0)
            let estimate = Aligner().estimateHomography(source: p.source, target: p.target)
            let error = estimate.homography.worstCornerError(to: p.homography, width: w, height: h)
            #expect(error < 0.03, "seed \(seed): worst corner error \(error) px")
            #expect(estimate.correlation > 0.99)
        }
    }

    @Test func recoversTheColourGainsAndOffsets() throws {
        let p = Self.pair()
        var options = AlignerOptions()
        options.colourModel = .gainOffset
        let result = try Aligner(options).align(source: p.source, target: p.target)
        let colour = try #require(result.colour)
        #expect(colour.model == .gainOffset)
        // The fitted map takes the target back to the source: gain 1/g, offset -o/g.
        for c in 0..<3 {
            let g = colour.fit.gains[c], o = colour.fit.offset[c]
            #expect(abs(g - 1 / Self.gain[c]) < 0.01, "channel \(c) gain \(g)")
            #expect(abs(o + Self.offset[c] / Self.gain[c]) < 0.006, "channel \(c) offset \(o)")
        }
        #expect(colour.residual < 0.01)
        // The aligned target now matches the source in colour and position.
        let s = try #require(result.alignedSource), t = try #require(result.alignedTarget)
        #expect(s.width == t.width && s.height == t.height)
        var diff = 0.0
        for c in 0..<3 {
            var a = 0.0, b = 0.0
            for i in 0..<(s.planeSize) { a += Double(s.pixels[c * s.planeSize + i]); b += Double(t.pixels[c * s.planeSize + i]) }
            diff = max(diff, abs(a - b) / Double(s.planeSize))
        }
        #expect(diff < 0.005, "mean colour difference \(diff)")
    }

    /// The written pair lines up pixel for pixel: the aligned target differs from the cropped source by little
    /// more than the noise, and a one-pixel offset of the crop would be far worse.
    @Test func alignedImagesMatchPixelForPixel() throws {
        let p = Self.pair(defocus: 0)
        let result = try Aligner().align(source: p.source, target: p.target)
        let s = try #require(result.alignedSource), t = try #require(result.alignedTarget)
        func rms(dx: Int) -> Double {
            var sum = 0.0, count = 0
            for c in 0..<3 {
                for y in 8..<(s.height - 8) {
                    for x in 8..<(s.width - 8) {
                        let d = Double(s[c, x, y] - t[c, x + dx, y])
                        sum += d * d
                        count += 1
                    }
                }
            }
            return (sum / Double(count)).squareRoot()
        }
        let aligned = rms(dx: 0), offByOne = rms(dx: 1)
        // Noise 0.005 in each image gives about 0.007 for the difference.
        #expect(aligned < 0.012, "RMS difference \(aligned)")
        #expect(offByOne > 3 * aligned, "RMS \(aligned) aligned, \(offByOne) one pixel off")
        #expect(result.crop.map { $0.width == s.width && $0.height == s.height } == true)
    }

    @Test func affineColourModelFitsACrossChannelMix() throws {
        let p = Self.pair()
        // Mix the target's channels: only the 3x3 model can undo it.
        var target = p.target
        let n = target.planeSize
        for i in 0..<n {
            let r = target.pixels[i], g = target.pixels[n + i], b = target.pixels[2 * n + i]
            target.pixels[i] = 0.8 * r + 0.15 * g + 0.02
            target.pixels[n + i] = 0.1 * r + 0.85 * g + 0.05 * b
            target.pixels[2 * n + i] = 0.1 * g + 0.85 * b
        }
        let result = try Aligner().align(source: p.source, target: target)
        let colour = try #require(result.colour)
        #expect(colour.model == .affine)
        let go = try #require(colour.candidates.first { $0.model == .gainOffset })
        #expect(colour.residual < 0.5 * go.residual)
        #expect(colour.residual < 0.01)
    }

    @Test func aMovingObjectIsFlaggedForReview() throws {
        let (w, h) = Self.size
        let moving = SyntheticPair.MovingObject(centre: (Double(w) * 0.25, Double(h) * 0.5), radius: 45,
                                                displacement: (5, 3))
        let p = Self.pair(moving: moving)
        let result = try Aligner().align(source: p.source, target: p.target)
        #expect(result.verdict == .review, "\(result.reasons)")
        let mis = try #require(result.quality.misalignment)
        #expect(!mis.misaligned.isEmpty)
        // The flagged blocks lie on the object (in crop coordinates).
        let crop = try #require(result.crop)
        for b in mis.misaligned {
            let cx = Double(b.x + crop.x + mis.blockSize / 2), cy = Double(b.y + crop.y + mis.blockSize / 2)
            #expect(hypot(cx - moving.centre.0, cy - moving.centre.1) < moving.radius + Double(mis.blockSize),
                    "block at \(b.x),\(b.y) is away from the object")
        }
        // The blocks on the object measure its displacement.
        let worst = try #require(mis.misaligned.max { $0.shift < $1.shift })
        #expect(abs(worst.shift - hypot(5, 3)) < 0.5, "worst block shift \(worst.shift)")
        // The global fit is not dragged off by the object.
        #expect(result.homography.worstCornerError(to: p.homography, width: w, height: h) < 0.3)
    }

    /// Tens of pixels of translation and a few degrees of rotation: phase correlation finds the shift, the
    /// pyramid the rest.
    @Test(arguments: [(1.0, 37.0, -22.0), (2.0, -60.0, 41.0)])
    func largerMotionIsFound(degrees: Double, dx: Double, dy: Double) throws {
        let (w, h) = Self.size
        let truth = Self.geometry(w, h, degrees: degrees, scale: 1.01, shift: (dx, dy))
        let p = SyntheticPair.make(width: w, height: h, homography: truth, defocusRadius: 4, defocusFrom: 0.55,
                                   noise: 0.005, seed: 9)
        let result = try Aligner().align(source: p.source, target: p.target)
        #expect(result.homography.worstCornerError(to: truth, width: w, height: h) < 0.2)
        #expect(result.verdict == .accepted, "\(result.reasons)")
        #expect(result.registration.coarse == "phase correlation")
    }

    @Test func anUnrelatedPairIsRejected() throws {
        let p = Self.pair(targetSeed: 99)
        let result = try Aligner().align(source: p.source, target: p.target)
        #expect(result.verdict == .rejected)
        #expect(!result.reasons.isEmpty)
        #expect(result.alignedSource == nil && result.alignedTarget == nil)
    }

    @Test func tooLittleOverlapIsRejected() throws {
        let (w, h) = Self.size
        let far = Self.geometry(w, h, degrees: 0, scale: 1, shift: (260, 0))
        let p = SyntheticPair.make(width: w, height: h, homography: far, noise: 0.005, seed: 5)
        let result = try Aligner().align(source: p.source, target: p.target, initialHomography: far)
        #expect(result.verdict == .rejected)
        #expect(result.reasons.contains { $0.contains("overlap") }, "\(result.reasons)")
    }

    @Test func mirroredTargetFromTheRigCalibration() throws {
        let (w, h) = Self.size
        let p = Self.pair()
        // The reflected camera's image: mirror the target left-right.
        var target = p.target
        let n = target.planeSize
        for c in 0..<3 {
            for y in 0..<h {
                for x in 0..<w { target.pixels[c * n + y * w + x] = p.target.pixels[c * n + y * w + (w - 1 - x)] }
            }
        }
        let calibration = AlignmentCalibration(mirror: .horizontal)
        let result = try Aligner().align(source: p.source, target: target, calibration: calibration)
        // The report maps source pixels into the mirrored file's coordinates.
        let flip = try Homography([-1, 0, Double(w - 1), 0, 1, 0, 0, 0, 1])
        let error = result.homography.worstCornerError(to: flip * p.homography, width: w, height: h)
        #expect(error < 0.08, "worst corner error \(error) px")
        #expect(result.homography.determinant < 0)
        #expect(result.verdict == .accepted, "\(result.reasons)")
    }

    @Test func referenceModeRefinesAGivenHomography() throws {
        let (w, h) = Self.size
        let p = Self.pair()
        // A reference off by about a pixel (as a stopped-down pair of the same scene would be, after a small knock).
        let reference = Homography.translation(0.8, -0.6) * p.homography
        let aligner = Aligner()
        let estimate = aligner.estimateHomography(source: p.source, target: p.target, initialHomography: reference)
        #expect(estimate.failure == nil)
        #expect(estimate.homography.worstCornerError(to: p.homography, width: w, height: h) < 0.08,
                "iterations \(estimate.iterations), correlation \(estimate.correlation)")
    }

    /// The rig file's reference homography measured between live views a quarter the size (as `rig init` writes
    /// it) is scaled to the photographs and used as the coarse estimate.
    @Test func aReferenceMeasuredOnSmallerFramesIsScaledAndUsed() throws {
        let (w, h) = Self.size
        let p = Self.pair()
        let photo = FrameSize(width: w, height: h), view = FrameSize(width: w / 4, height: h / 4)
        let down = Homography(unchecked: [0.25, 0, -0.375, 0, 0.25, -0.375, 0, 0, 1])
        let up = Homography(unchecked: [4, 0, 1.5, 0, 4, 1.5, 0, 0, 1])
        // Off by a third of a live-view pixel, as a coarse live-view registration is.
        let measured = Homography.translation(0.3, -0.2) * down * p.homography * up
        let calibration = AlignmentCalibration(referenceHomography: measured, referenceFrames: .init(source: view, target: view))
        #expect(try #require(calibration.reference(source: photo, target: photo))
            .worstCornerError(to: p.homography, width: w, height: h) < 1.5)
        let result = try Aligner().align(source: p.source, target: p.target, calibration: calibration)
        #expect(result.registration.coarse == "initial homography", "\(result.registration.coarse)")
        #expect(result.homography.worstCornerError(to: p.homography, width: w, height: h) < 0.08)
        #expect(result.verdict == .accepted, "\(result.reasons)")
    }

    /// A reference far off (the rig was knocked): the search from scratch takes over.
    @Test func aWrongReferenceFallsBackToTheSearch() throws {
        let (w, h) = Self.size
        let p = Self.pair()
        let wrong = Homography.translation(150, -90) * p.homography
        let result = try Aligner().align(source: p.source, target: p.target, initialHomography: wrong)
        #expect(result.homography.worstCornerError(to: p.homography, width: w, height: h) < 0.08)
        #expect(result.verdict == .accepted, "\(result.reasons)")
        #expect(result.registration.coarse.hasPrefix("phase correlation"))
    }

    @Test func lensDistortionIsUndoneThroughTheMap() throws {
        let (w, h) = Self.size
        let truth = Self.geometry(w, h)
        let distortion = LensDistortion(coefficients: [-0.04, 0.01, 0, 0, 0])
        let calibration = AlignmentCalibration(distortion: .init(source: nil, target: distortion))
        // Render the target through the distortion: target file pixel q shows the scene at H^-1(undistort(q)).
        let texture = ProceduralTexture(seed: 8)
        let source = texture.render(width: w, height: h) { ($0, $1) }
        let inverse = try #require(truth.inverse)
        let bound = try Self.undistorter(distortion, w, h)
        let target = texture.render(width: w, height: h) { x, y in
            let u = bound(x, y)
            let p = inverse.apply(u.0, u.1)
            return (p.x, p.y)
        }
        let result = try Aligner().align(source: source, target: target, calibration: calibration)
        #expect(result.homography.worstCornerError(to: truth, width: w, height: h) < 0.05)
        #expect(result.verdict == .accepted, "\(result.reasons)")
        // Ignoring the distortion cannot fit as well.
        let plain = try Aligner().align(source: source, target: target)
        #expect(plain.quality.registrationCorrelation < result.quality.registrationCorrelation)
    }

    /// Numerical inverse of the Brown model (as documented: normalised by half the diagonal about the centre).
    static func undistorter(_ d: LensDistortion, _ w: Int, _ h: Int) throws -> @Sendable (Double, Double) -> (Double, Double) {
        let k1 = d.coefficients[0], k2 = d.coefficients[1]
        let f = 0.5 * hypot(Double(w - 1), Double(h - 1)), cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        return { x, y in
            let xd = (x - cx) / f, yd = (y - cy) / f
            var xu = xd, yu = yd
            for _ in 0..<30 {
                let r2 = xu * xu + yu * yu
                let radial = 1 + r2 * (k1 + r2 * k2)
                xu = xd / radial
                yu = yd / radial
            }
            return (xu * f + cx, yu * f + cy)
        }
    }

    @Test func tooSmallImagesAreTypedErrors() {
        let tiny = RGBImage(width: 32, height: 32)
        #expect(throws: AlignmentError.self) { try Aligner().align(source: tiny, target: tiny) }
    }

    @Test func reportHasTheStableKeys() throws {
        let p = Self.pair()
        let result = try Aligner().align(source: p.source, target: p.target)
        let object = try #require(try JSONSerialization.jsonObject(with: result.jsonData()) as? [String: Any])
        for key in ["homography", "colour", "crop", "quality", "verdict", "reasons"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        let colour = try #require(object["colour"] as? [String: Any])
        #expect(colour["model"] != nil && colour["parameters"] != nil && colour["residual"] != nil)
        let crop = try #require(object["crop"] as? [String: Any])
        #expect(Set(crop.keys) == ["x", "y", "width", "height"])
        let quality = try #require(object["quality"] as? [String: Any])
        for key in ["overlap", "clipped", "correlation", "misalignment"] { #expect(quality[key] != nil, "missing quality.\(key)") }
        let h = try #require(object["homography"] as? [[Double]])
        #expect(h.count == 3 && h.allSatisfy { $0.count == 3 })
    }
}
