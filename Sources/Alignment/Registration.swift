import Foundation
import PairVocabulary

/// Settings of the coarse-to-fine registration.
public struct RegistrationOptions: Sendable, Equatable {
    /// Down-weight source pixels that are defocused (their local gradient energy, noise removed, is well below
    /// the sharp target's at the same place) on the finer levels. Off by default: measured, the blurred part of
    /// the frame helps more through its geometric leverage than it hurts (docs/alignment.md).
    public var focusWeighting = false
    /// The weight left to fully defocused pixels. Dropping them entirely (0) loses the geometric leverage of the
    /// blurred part of the frame and measured worse (docs/alignment.md).
    public var focusFloor: Float = 0.2
    /// Blur the sharp target where the source is defocused, so that the two match there: the target is sampled
    /// as a blend of itself and a blurred copy, by the source's focus map, with one blur radius estimated for the
    /// defocused part of the frame (matching gradient energies).
    public var blurMatching = true
    /// Smooth both images of every level with a 5-tap binomial (sigma 1) before the fit, as OpenCV's ECC does.
    /// Off by default: it helped on small noise-free pairs and hurt on the noisy benchmark pair.
    public var smoothing = false
    /// At most this many sample pixels per level (the strongest-gradient in-focus ones); bounds the cost of
    /// each iteration on large images without losing accuracy.
    public var maxPoints = 300_000
    public var maxIterations = 50
    /// Stop a level when an update moves no image corner by more than this many pixels of that level.
    public var tolerance = 0.001
    /// The coarse estimate (phase correlation) is found where the image is at most this many pixels across;
    /// it finds translations up to about half that, times the level's scale.
    public var coarseSize = 128
    /// With a given initial homography, refinement starts where the image is at most this many pixels across.
    public var refinementSize = 512

    public init() {}
}

/// What registration found, with the figures the verdict needs.
struct Registration {
    /// Prepared source -> prepared target, full-resolution pixel coordinates.
    var homography: Homography
    /// The normalised correlation the optimiser maximised, at the finest level (focus-weighted).
    var correlation: Double
    var coarseMethod: String
    var phasePeak: Double?
    var iterations: [Int]
    /// Focus weights (0 defocused .. 1 sharp) on the source grid of level `focusLevel`.
    var focus: Plane?
    var focusLevel: Int
    var failure: String?
}

/// Coordinates of level l+1 relative to level l: x_l = 2 x_{l+1} + 0.5.
private let levelUp = Homography(unchecked: [2, 0, 0.5, 0, 2, 0.5, 0, 0, 1])
private let levelDown = Homography(unchecked: [0.5, 0, -0.25, 0, 0.5, -0.25, 0, 0, 1])

func convert(_ h: Homography, fromLevel a: Int, toLevel b: Int) -> Homography {
    var h = h
    var l = a
    while l > b { h = levelUp * h * levelDown; l -= 1 }
    while l < b { h = levelDown * h * levelUp; l += 1 }
    return h
}

func pyramid(_ p: Plane, minSize: Int = 24) -> [Plane] {
    var levels = [p]
    while let last = levels.last, min(last.width, last.height) / 2 >= minSize { levels.append(last.halved()) }
    return levels
}

/// Coarse-to-fine homography registration of two grey images: a coarse estimate (phase correlation, or the
/// given initial map), then inverse-compositional ECC (Evangelidis & Psarakis) on every pyramid level: the
/// template's steepest-descent images and Hessian are built once per level, so each iteration is a single
/// fused pass (warp, sample, project) over the sample pixels.
func register(source: Plane, target: Plane, initial: Homography?, options: RegistrationOptions) -> Registration {
    let nLevels = min(pyramid(source).count, pyramid(target).count)
    let sp = Array(pyramid(source).prefix(nLevels)), tp = Array(pyramid(target).prefix(nLevels))
    func level(fitting size: Int) -> Int {
        var l = 0
        while l < nLevels - 1 && max(sp[l].width, sp[l].height) > size { l += 1 }
        return l
    }
    var focusLevel = min(1, nLevels - 1)  // half resolution at least: a less noisy focus measure
    while focusLevel < nLevels - 1 && sp[focusLevel].width * sp[focusLevel].height > 1_100_000 { focusLevel += 1 }

    var start: Int
    var h: Homography
    var coarseMethod: String
    var peak: Double? = nil
    if let initial {
        start = level(fitting: options.refinementSize)
        h = convert(initial, fromLevel: 0, toLevel: start)
        coarseMethod = "initial homography"
    } else {
        start = level(fitting: options.coarseSize)
        let pc = phaseCorrelation(source: sp[start], target: tp[start])
        h = .translation(pc.dx, pc.dy)
        peak = pc.peak
        coarseMethod = "phase correlation"
    }
    // Contrast ratio for the focus measure, from low-pass levels where defocus does not matter.
    let (_, sd) = sp[nLevels - 1].meanAndDeviation()
    let (_, td) = tp[nLevels - 1].meanAndDeviation()
    let contrast = td > 1e-9 ? sd / td : 1

    var focus: Plane? = nil
    var blurRadius = 0
    var blurredTarget: Plane? = nil
    var iterations: [Int] = []
    var correlation = 0.0
    for l in stride(from: start, through: 0, by: -1) {
        if l != start { h = convert(h, fromLevel: l + 1, toLevel: l) }
        let usesFocus = options.focusWeighting || options.blurMatching
        // The focus map needs a registered pair: measured on the focus level with the estimate of the level above,
        // or, when the focus level is where refinement starts, after that level (for the finer ones).
        func measureFocus(_ l: Int) {
            focus = focusMap(source: sp[l], target: tp[l], homography: h, contrast: contrast)
            if options.blurMatching, let f = focus {
                blurRadius = matchingBlur(source: sp[l], target: tp[l], focus: f, homography: h, contrast: contrast)
            }
        }
        if usesFocus && l == focusLevel && l < start { measureFocus(l) }
        let focusLookup = (usesFocus && l <= focusLevel) ? focus.map { (plane: $0, shift: focusLevel - l) } : nil
        let weights = options.focusWeighting ? focusLookup : nil
        var blurred: (plane: Plane, focus: (plane: Plane, shift: Int))? = nil
        if options.blurMatching, l <= focusLevel, let focusLookup, blurRadius > 0 {
            // Built once on the focus level; finer levels sample it there (it is smooth, so nothing is lost).
            if blurredTarget == nil { blurredTarget = boxFilter(boxFilter(tp[focusLevel], radius: blurRadius), radius: blurRadius) }
            if let b = blurredTarget { blurred = (b, focusLookup) }
        }
        let tol = l == 0 ? options.tolerance : max(options.tolerance, 0.01)
        let r = eccLevel(source: options.smoothing ? binomialSmoothed(sp[l]) : sp[l],
                         target: options.smoothing ? binomialSmoothed(tp[l]) : tp[l], homography: h, weights: weights, blurred: blurred, focusFloor: options.focusFloor,
                         maxPoints: options.maxPoints, maxIterations: options.maxIterations, tolerance: tol)
        iterations.append(r.iterations)
        if let failure = r.failure {
            return Registration(homography: convert(h, fromLevel: l, toLevel: 0), correlation: r.correlation,
                                coarseMethod: coarseMethod, phasePeak: peak, iterations: iterations, focus: focus,
                                focusLevel: focusLevel, failure: "level \(l): \(failure)")
        }
        h = r.homography
        correlation = r.correlation
        if usesFocus && l == start && focusLevel >= start {
            focusLevel = l
            measureFocus(l)
        }
    }
    return Registration(homography: h, correlation: correlation, coarseMethod: coarseMethod, phasePeak: peak,
                        iterations: iterations, focus: focus, focusLevel: focusLevel, failure: nil)
}
