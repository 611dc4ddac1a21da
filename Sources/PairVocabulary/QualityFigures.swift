/// A pair's quality figures by name: the alignment's own (typed accessors below, the names the verdict was reached
/// on) and any others an imported set carries. The catalogue keeps them as one JSON object (`pair.quality`), the
/// review queue sorts and filters by any name, and exports write the object as it is, so this one type serves the
/// aligner's result, the catalogue's input and its records alike. Only finite figures are kept.
public struct QualityFigures: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    /// Every figure by name.
    public private(set) var values: [String: Double]

    public init(_ values: [String: Double] = [:]) {
        self.values = values.filter { $0.value.isFinite }
    }

    public init(dictionaryLiteral elements: (String, Double)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { $1 }))
    }

    public init(overlap: Double? = nil, clipped: Double? = nil, correlation: Double? = nil,
                registrationCorrelation: Double? = nil, inFocus: Double? = nil, misalignedBlocks: Double? = nil,
                measuredBlocks: Double? = nil, medianShift: Double? = nil, p95Shift: Double? = nil,
                maxShift: Double? = nil) {
        values = [:]
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

    public init(from decoder: Decoder) throws { self.init(try decoder.singleValueContainer().decode([String: Double].self)) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }

    /// A figure by name; setting nil or a non-finite value removes it.
    public subscript(name: String) -> Double? {
        get { values[name] }
        set { values[name] = newValue.flatMap { $0.isFinite ? $0 : nil } }
    }

    /// The names, sorted.
    public var names: [String] { values.keys.sorted() }
    public var isEmpty: Bool { values.isEmpty }

    /// Fraction of source pixels that the target covers.
    public var overlap: Double? { get { self["overlap"] } set { self["overlap"] = newValue } }
    /// Fraction of crop pixels clipped (a channel at or above 0.99) in either image.
    public var clipped: Double? { get { self["clipped"] } set { self["clipped"] = newValue } }
    /// Correlation of the grey images over the whole crop after alignment and colour matching.
    public var correlation: Double? { get { self["correlation"] } set { self["correlation"] = newValue } }
    /// The registration's normalised correlation on in-focus, textured source pixels.
    public var registrationCorrelation: Double? {
        get { self["registrationCorrelation"] } set { self["registrationCorrelation"] = newValue }
    }
    /// Fraction of the crop where the source is in focus.
    public var inFocus: Double? { get { self["inFocus"] } set { self["inFocus"] = newValue } }
    /// Blocks whose local shift exceeds the threshold, of `measuredBlocks` measured.
    public var misalignedBlocks: Double? { get { self["misalignedBlocks"] } set { self["misalignedBlocks"] = newValue } }
    public var measuredBlocks: Double? { get { self["measuredBlocks"] } set { self["measuredBlocks"] = newValue } }
    /// Local residual shifts after alignment, in pixels.
    public var medianShift: Double? { get { self["medianShift"] } set { self["medianShift"] = newValue } }
    public var p95Shift: Double? { get { self["p95Shift"] } set { self["p95Shift"] = newValue } }
    public var maxShift: Double? { get { self["maxShift"] } set { self["maxShift"] = newValue } }
}
