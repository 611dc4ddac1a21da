import Foundation
import PairVocabulary
import Imaging

public struct AlignerOptions: Sendable, Equatable {
    public var registration = RegistrationOptions()
    public var colourModel: ColourModelChoice = .auto
    public var thresholds = VerdictThresholds()
    public init() {}
}

/// The colour part of the report.
/// The colour step of an alignment: the fit applied (the one `ColourFit` the catalogue keeps), how many samples it
/// used, and every model tried. Written as `{model, parameters: {matrix, offset, gain}, residual, samples,
/// candidates}` in the alignment report.
public struct ColourReport: Sendable, Equatable, Codable {
    public struct Candidate: Sendable, Equatable, Codable {
        public var model: ColourModel
        public var residual: Double
    }
    /// `identity` (residual NaN) when colour matching was off or impossible.
    public var fit: ColourFit
    /// Low-pass samples the fit used.
    public var samples: Int
    /// Every model fitted, with its residual.
    public var candidates: [Candidate]

    public var model: ColourModel { fit.model }
    public var residual: Double { fit.residual ?? .nan }

    public init(fit: ColourFit, samples: Int, candidates: [Candidate]) {
        self.fit = fit
        self.samples = samples
        self.candidates = candidates
    }

    enum CodingKeys: String, CodingKey { case model, parameters, residual, samples, candidates }
    enum ParameterKeys: String, CodingKey { case matrix, offset, gain }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(fit.model, forKey: .model)
        var p = c.nestedContainer(keyedBy: ParameterKeys.self, forKey: .parameters)
        try p.encode(fit.matrix, forKey: .matrix)
        try p.encode(fit.offset, forKey: .offset)
        try p.encode(fit.gains, forKey: .gain)
        try c.encode(residual, forKey: .residual)
        try c.encode(samples, forKey: .samples)
        try c.encode(candidates, forKey: .candidates)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let p = try c.nestedContainer(keyedBy: ParameterKeys.self, forKey: .parameters)
        fit = ColourFit(model: try c.decode(ColourModel.self, forKey: .model), matrix: try p.decode([Double].self, forKey: .matrix),
                        offset: try p.decode([Double].self, forKey: .offset), residual: try c.decode(Double.self, forKey: .residual))
        samples = try c.decode(Int.self, forKey: .samples)
        candidates = try c.decode([Candidate].self, forKey: .candidates)
    }
}

public struct QualityReport: Sendable, Equatable, Codable {
    /// Fraction of source pixels that the target covers.
    public var overlap: Double
    /// Fraction of crop pixels clipped (a channel at or above 0.99) in either image.
    public var clipped: Double
    /// Correlation of the grey images over the whole crop after alignment and colour matching.
    public var correlation: Double
    /// The registration's normalised correlation on in-focus, textured source pixels.
    public var registrationCorrelation: Double
    /// Fraction of the crop where the source is in focus (weight >= 0.5).
    public var inFocus: Double
    public var misalignment: MisalignmentReport?
}

public struct RegistrationReport: Sendable, Equatable, Codable {
    /// `phase correlation` or `initial homography` (reference mode, rig calibration).
    public var coarse: String
    public var phasePeak: Double?
    /// Iterations run per pyramid level, coarse to fine.
    public var iterations: [Int]
    public var focusWeighting: Bool
    public var mirror: Mirror
    public var lensCorrection: Bool
}

/// Everything the aligner found, plus the aligned images. Encodes to the `alignment.json` report.
public struct AlignmentResult: Sendable, Codable {
    /// Source pixel -> target pixel (lens-undistorted coordinates when the calibration has distortion).
    public var homography: Homography
    public var colour: ColourReport?
    public var crop: CropRect?
    public var quality: QualityReport
    public var verdict: Verdict
    public var reasons: [String]
    public var registration: RegistrationReport
    public var sourceSize: [Int]
    public var targetSize: [Int]
    /// Seconds spent: registration, warp (incl. colour and quality), total.
    public var timings: [String: Double]
    /// The source cropped (never resampled) and the target warped onto it, colour-matched and cropped; nil for a
    /// rejected pair.
    public var alignedSource: RGBImage?
    public var alignedTarget: RGBImage?

    enum CodingKeys: String, CodingKey {
        case homography, colour, crop, quality, verdict, reasons, registration, sourceSize, targetSize, timings
    }

    /// The report as stable, human-readable JSON.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                      nan: "nan")
        return try encoder.encode(self)
    }
}

/// Aligns a deep-DOF target onto a shallow-DOF source: the source is never resampled, the target is brought into
/// its frame, colour-matched and both are cropped to their largest common rectangle, with a verdict.
public struct Aligner: Sendable {
    public var options: AlignerOptions

    public init(_ options: AlignerOptions = AlignerOptions()) {
        self.options = options
    }

    /// Aligns one pair. `initialHomography` (source -> target in the report's convention) replaces the coarse
    /// search: pass the homography of the scene's stopped-down reference pair (reference mode) to refine it
    /// for each of the scene's pairs. Throws only for unusable input; a bad pair is a `reject` verdict.
    public func align(source: RGBImage, target: RGBImage, calibration: AlignmentCalibration = AlignmentCalibration(),
                      initialHomography: Homography? = nil) throws -> AlignmentResult {
        let started = Date()
        for (name, image) in [("source", source), ("target", target)] where min(image.width, image.height) < 64 {
            throw AlignmentError.badImage(name: name, detail: "\(image.width)x\(image.height) is too small (at least 64 px a side)")
        }
        let sw = source.width, sh = source.height, tw = target.width, th = target.height
        let prepared = registerPrepared(source: source, target: target, calibration: calibration,
                                        initialHomography: initialHomography)
        let reg = prepared.registration, homography = prepared.homography
        let sourceDistortion = prepared.sourceDistortion, targetDistortion = prepared.targetDistortion
        let registered = Date()
        let thresholds = options.thresholds

        var result = AlignmentResult(
            homography: homography, colour: nil, crop: nil,
            quality: QualityReport(overlap: 0, clipped: 0, correlation: 0, registrationCorrelation: reg.correlation,
                                   inFocus: 0, misalignment: nil),
            verdict: .rejected, reasons: [],
            registration: RegistrationReport(coarse: reg.coarseMethod, phasePeak: reg.phasePeak,
                                             iterations: reg.iterations, focusWeighting: options.registration.focusWeighting,
                                             mirror: calibration.mirror,
                                             lensCorrection: sourceDistortion != nil || targetDistortion != nil),
            sourceSize: [sw, sh], targetSize: [tw, th], timings: [:], alignedSource: nil, alignedTarget: nil)
        var timings = ["registration": registered.timeIntervalSince(started)]
        var stageStart = Date()
        func stage(_ name: String) {
            let now = Date()
            timings[name] = now.timeIntervalSince(stageStart)
            stageStart = now
        }
        func finish(_ verdict: Verdict, _ reasons: [String]) -> AlignmentResult {
            var r = result
            r.verdict = verdict
            r.reasons = reasons
            r.timings = timings
            r.timings["total"] = Date().timeIntervalSince(started)
            if verdict == .rejected {
                r.alignedSource = nil
                r.alignedTarget = nil
            }
            return r
        }
        if let failure = reg.failure {
            return finish(.rejected, ["registration failed (\(failure)): the images may not show the same scene, or be "
                                    + "too far apart for the coarse search (give the rig's reference homography)"])
        }
        if reg.correlation < thresholds.minCorrelation {
            return finish(.rejected, [String(format: "the images do not match: correlation %.3f after registration "
                                           + "(at least %.2f needed); an unrelated pair or a failed optimisation",
                                           reg.correlation, thresholds.minCorrelation)])
        }

        let map = PixelMap(homography: homography, sourceDistortion: sourceDistortion, targetDistortion: targetDistortion)
        let (cropRect, overlap) = validRegion(map: map, sourceWidth: sw, sourceHeight: sh, targetWidth: tw, targetHeight: th)
        result.quality.overlap = overlap
        if overlap < thresholds.minOverlap {
            return finish(.rejected, [String(format: "too little overlap: the target covers %.1f%% of the source "
                                           + "(at least %.0f%% needed)", 100 * overlap, 100 * thresholds.minOverlap)])
        }
        guard let crop = cropRect, Double(crop.area) >= thresholds.minCropFraction * Double(sw * sh),
              crop.width >= 32, crop.height >= 32 else {
            let area = Double(cropRect?.area ?? 0) / Double(sw * sh)
            return finish(.rejected, [String(format: "the common rectangle is %.1f%% of the source (at least %.0f%% needed)",
                                           100 * area, 100 * thresholds.minCropFraction)])
        }
        result.crop = crop
        stage("crop")

        var warped = warpBicubic(target, map: map, crop: crop)
        let sourceCrop = source.cropped(x: crop.x, y: crop.y, width: crop.width, height: crop.height)
        stage("warp")
        result.quality.clipped = clippedFraction(sourceCrop, warped)

        // Colour: fitted on low-pass blocks of well-exposed pixels so that defocus does not bias it.
        var reasons: [String] = []
        var verdict = Verdict.accepted
        // Blocks of about 1/10000 of the crop: strongly low-passed, and few enough for a quick robust fit.
        let block = max(2, Int((Double(crop.area) / 10_000).squareRoot()))
        let samples = ColourSamples(source: sourceCrop, target: warped, block: block)
        var fits: [(fit: ColourFit, samples: Int)] = []
        switch options.colourModel {
        case .none: break
        case .gainOffset: fits = [fitColour(samples, model: .gainOffset)].compactMap { $0 }
        case .affine: fits = [fitColour(samples, model: .affine)].compactMap { $0 }
        case .auto: fits = [fitColour(samples, model: .gainOffset), fitColour(samples, model: .affine)].compactMap { $0 }
        }
        var chosen = fits.first
        if fits.count == 2, let a = fits[0].fit.residual, let b = fits[1].fit.residual, b < 0.8 * a { chosen = fits[1] }
        if let chosen {
            chosen.fit.apply(to: &warped)
            result.colour = ColourReport(fit: chosen.fit, samples: chosen.samples,
                                         candidates: fits.map { .init(model: $0.fit.model, residual: $0.fit.residual ?? .nan) })
            let residual = chosen.fit.residual ?? 0
            if residual > thresholds.maxColourResidual {
                verdict = .review
                reasons.append(String(format: "colour fit residual %.4f exceeds %.4f", residual, thresholds.maxColourResidual))
            }
        } else {
            var none = ColourFit.identity
            none.residual = .nan
            result.colour = ColourReport(fit: none, samples: samples.count, candidates: [])
            if options.colourModel != .none {
                verdict = .review
                reasons.append("too few well-exposed pixels (\(samples.count) low-pass samples) to fit colour; not colour-matched")
            }
        }

        stage("colour")
        // Quality on the aligned, colour-matched pair.
        let sg = Plane(luma: sourceCrop), tg = Plane(luma: warped)
        result.quality.correlation = correlation(sg, tg)
        let (inFocus, mis) = focusAndMisalignment(source: sg, target: tg, thresholds: thresholds)
        result.quality.inFocus = inFocus
        result.quality.misalignment = mis
        stage("quality")

        if reg.correlation < thresholds.reviewCorrelation {
            verdict = .review
            reasons.append(String(format: "registration correlation %.3f is below %.2f", reg.correlation,
                                  thresholds.reviewCorrelation))
        }
        if result.quality.clipped > thresholds.maxClipped {
            verdict = .review
            reasons.append(String(format: "%.1f%% of the crop is clipped", 100 * result.quality.clipped))
        }
        if mis.misaligned.count > thresholds.maxMisalignedBlocks
            || mis.misaligned.contains(where: { !($0.shift <= thresholds.loneBlockShift) }) {
            verdict = .review
            let worst = mis.misaligned.max { $0.shift < $1.shift }!
            reasons.append(String(format: "%d of %d in-focus blocks are misaligned (moving object or parallax?), worst "
                                  + "at (%d, %d) of the crop: shift %.2f px, correlation %.2f",
                                  mis.misaligned.count, mis.measured, worst.x, worst.y, worst.shift, worst.correlation))
        }
        if mis.measured < thresholds.minMeasuredBlocks {
            verdict = .review
            reasons.append("only \(mis.measured) in-focus textured blocks: local alignment could not be verified")
        }
        result.alignedSource = sourceCrop
        result.alignedTarget = warped
        return finish(verdict, reasons)
    }

    /// Registration alone (no warp, colour or verdict): the source -> target homography in the report's
    /// convention. This is what reference mode stores per scene and what the benchmark times.
    public func estimateHomography(source: RGBImage, target: RGBImage,
                                   calibration: AlignmentCalibration = AlignmentCalibration(),
                                   initialHomography: Homography? = nil) -> HomographyEstimate {
        let p = registerPrepared(source: source, target: target, calibration: calibration,
                                 initialHomography: initialHomography)
        return HomographyEstimate(homography: p.homography, correlation: p.registration.correlation,
                                  iterations: p.registration.iterations, failure: p.registration.failure)
    }

    private struct Prepared {
        var registration: Registration
        var homography: Homography
        var sourceDistortion: BoundDistortion?
        var targetDistortion: BoundDistortion?
    }

    /// Grey images in the registration frame (lens-undistorted, target mirrored back), registered; the result
    /// is converted back to the report's convention (target file orientation).
    private func registerPrepared(source: RGBImage, target: RGBImage, calibration: AlignmentCalibration,
                                  initialHomography: Homography?) -> Prepared {
        let sw = source.width, sh = source.height, tw = target.width, th = target.height
        let sourceDistortion = calibration.distortion?.source?.bound(width: sw, height: sh)
        let targetDistortion = calibration.distortion?.target?.bound(width: tw, height: th)
        let flip = Homography.flip(calibration.mirror, width: tw, height: th)
        var sGrey = Plane(luma: source)
        if let d = sourceDistortion {
            sGrey = resample(sGrey, width: sw, height: sh) { d.distort($0, $1) }
        }
        var tGrey = Plane(target, weights: channelBalance(source: source, target: target))
        if let d = targetDistortion {
            let f = flip
            tGrey = resample(tGrey, width: tw, height: th) { x, y in
                let q = f.apply(x, y)
                return d.distort(q.x, q.y)
            }
        } else {
            tGrey = tGrey.mirrored(calibration.mirror)
        }
        let initial = initialHomography
            ?? calibration.reference(source: FrameSize(width: sw, height: sh), target: FrameSize(width: tw, height: th))
        var reg = Alignment.register(source: sGrey, target: tGrey, initial: initial.map { flip * $0 },
                                     options: options.registration)
        // A reference that no longer fits (the rig was knocked) falls back to the search from scratch.
        if initial != nil, reg.failure != nil || reg.correlation < options.thresholds.minCorrelation {
            let searched = Alignment.register(source: sGrey, target: tGrey, initial: nil, options: options.registration)
            if searched.failure == nil, searched.correlation > reg.correlation || reg.failure != nil {
                reg = searched
                reg.coarseMethod = "phase correlation (the initial homography did not fit)"
            }
        }
        return Prepared(registration: reg, homography: flip * reg.homography, sourceDistortion: sourceDistortion,
                        targetDistortion: targetDistortion)
    }
}

/// The outcome of registration alone.
public struct HomographyEstimate: Sendable {
    public var homography: Homography
    /// Normalised correlation at the finest level, on in-focus textured pixels.
    public var correlation: Double
    public var iterations: [Int]
    /// Why the optimisation failed, if it did.
    public var failure: String?
}

/// Nearest-neighbour enlargement of a plane from pyramid level `shift` (pixel i covers 2^shift pixels from
/// i * 2^shift) to `width` x `height`.
func upsampled(_ small: Plane, shift: Int, width: Int, height: Int) -> Plane {
    if shift == 0 && small.width == width && small.height == height { return small }
    var out = [Float](repeating: 0, count: width * height)
    let columns = (0..<width).map { min($0 >> shift, small.width - 1) }
    out.withUnsafeMutableBufferPointer { buf in
        let d = buf.baseAddress!
        small.values.withUnsafeBufferPointer { src in
            let s = src.baseAddress!
            Parallel.forEach(count: height, minChunk: 64) { rows in
                for y in rows {
                    let row = s + min(y >> shift, small.height - 1) * small.width
                    for x in 0..<width { d[y * width + x] = row[columns[x]] }
                }
            }
        }
    }
    return Plane(width: width, height: height, values: out)
}

func clippedFraction(_ a: RGBImage, _ b: RGBImage) -> Double {
    let n = a.planeSize
    let counts = a.pixels.withUnsafeBufferPointer { pa in
        b.pixels.withUnsafeBufferPointer { pb in
            Parallel.map(count: n, minChunk: 65536) { r -> Int in
                var count = 0
                for i in r {
                    var high: Float = 0
                    for c in 0..<3 { high = max(high, pa[c * n + i], pb[c * n + i]) }
                    if high >= 0.99 { count += 1 }
                }
                return count
            }
        }
    }
    return Double(counts.reduce(0, +)) / Double(max(n, 1))
}

extension QualityReport {
    /// The figures as the catalogue keeps them with the pair.
    public var figures: QualityFigures {
        QualityFigures(overlap: overlap, clipped: clipped, correlation: correlation,
                       registrationCorrelation: registrationCorrelation, inFocus: inFocus,
                       misalignedBlocks: misalignment.map { Double($0.misaligned.count) },
                       measuredBlocks: misalignment.map { Double($0.measured) },
                       medianShift: misalignment?.medianShift, p95Shift: misalignment?.p95Shift,
                       maxShift: misalignment?.maxShift)
    }
}
