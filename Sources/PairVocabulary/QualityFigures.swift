/// The alignment's quality figures of a pair, as the verdict was reached on them and the catalogue keeps them (a
/// JSON object in `pair.quality`; the keys are these property names). Imported pairs have none.
public struct QualityFigures: Sendable, Hashable, Codable {
    /// Fraction of source pixels that the target covers.
    public var overlap: Double?
    /// Fraction of crop pixels clipped (a channel at or above 0.99) in either image.
    public var clipped: Double?
    /// Correlation of the grey images over the whole crop after alignment and colour matching.
    public var correlation: Double?
    /// The registration's normalised correlation on in-focus, textured source pixels.
    public var registrationCorrelation: Double?
    /// Fraction of the crop where the source is in focus.
    public var inFocus: Double?
    /// Blocks whose local shift exceeds the threshold, of `measuredBlocks` measured.
    public var misalignedBlocks: Double?
    public var measuredBlocks: Double?
    /// Local residual shifts after alignment, in pixels.
    public var medianShift: Double?
    public var p95Shift: Double?
    public var maxShift: Double?

    public init(overlap: Double? = nil, clipped: Double? = nil, correlation: Double? = nil,
                registrationCorrelation: Double? = nil, inFocus: Double? = nil, misalignedBlocks: Double? = nil,
                measuredBlocks: Double? = nil, medianShift: Double? = nil, p95Shift: Double? = nil,
                maxShift: Double? = nil) {
        self.overlap = overlap
        self.clipped = clipped
        self.correlation = correlation
        self.registrationCorrelation = registrationCorrelation
        self.inFocus = inFocus
        self.misalignedBlocks = misalignedBlocks
        self.measuredBlocks = measuredBlocks
        self.medianShift = medianShift
        self.p95Shift = p95Shift
        self.maxShift = maxShift
    }

    /// The known, finite figures by name, as the catalogue's `quality` object holds them. The catalogue's object is
    /// open: imported sets may carry figures of their own beside these.
    public var figures: [String: Double] {
        let all: [(String, Double?)] = [
            ("overlap", overlap), ("clipped", clipped), ("correlation", correlation),
            ("registrationCorrelation", registrationCorrelation), ("inFocus", inFocus),
            ("misalignedBlocks", misalignedBlocks), ("measuredBlocks", measuredBlocks), ("medianShift", medianShift),
            ("p95Shift", p95Shift), ("maxShift", maxShift),
        ]
        var out: [String: Double] = [:]
        for (name, value) in all { if let value, value.isFinite { out[name] = value } }
        return out
    }

    /// The figures of a catalogue `quality` object that this type knows; others are ignored.
    public init(figures: [String: Double]) {
        self.init(overlap: figures["overlap"], clipped: figures["clipped"], correlation: figures["correlation"],
                  registrationCorrelation: figures["registrationCorrelation"], inFocus: figures["inFocus"],
                  misalignedBlocks: figures["misalignedBlocks"], measuredBlocks: figures["measuredBlocks"],
                  medianShift: figures["medianShift"], p95Shift: figures["p95Shift"], maxShift: figures["maxShift"])
    }
}
