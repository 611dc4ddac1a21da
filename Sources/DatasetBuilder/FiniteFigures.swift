import Foundation
import PairVocabulary

/// The figures of a catalogue record on their way to JSON. rigctl never stores a non-finite number, but a crafted
/// or damaged catalogue can hold one (`UPDATE capture SET skew = -9e999`), and JSON has none: the encoders of the
/// catalogue's records pass every figure through here, so that it is written as null and named under the record's
/// `nonFinite` key ("skew: -inf") - `dataset show --json`, export's manifest and the review API then still encode.
struct FiniteFigures {
    /// "name: value" for every figure replaced by null, in the order met.
    private(set) var notes: [String] = []

    static let key = "nonFinite"

    /// `x`, or nil (noted) when it is not finite.
    mutating func value(_ x: Double?, _ name: String) -> Double? {
        guard let x, !x.isFinite else { return x }
        notes.append("\(name): \(x)")
        return nil
    }

    /// The values of a dictionary, the non-finite ones as nil (written as null).
    mutating func values(_ figures: [String: Double], _ name: String) -> [String: Double?] {
        var out: [String: Double?] = [:]
        for key in figures.keys.sorted() { out[key] = .some(value(figures[key], "\(name).\(key)")) }
        return out
    }

    /// The elements of an array, the non-finite ones as nil (written as null).
    mutating func values(_ figures: [Double], _ name: String) -> [Double?] {
        figures.enumerated().map { value($0.element, "\(name)[\($0.offset)]") }
    }

    /// Writes the notes under `nonFinite` when there are any.
    func encodeNotes(to encoder: Encoder) throws {
        guard !notes.isEmpty else { return }
        var container = encoder.container(keyedBy: NoteKey.self)
        try container.encode(notes, forKey: NoteKey())
    }

    private struct NoteKey: CodingKey {
        var stringValue: String { FiniteFigures.key }
        var intValue: Int? { nil }
        init() {}
        init?(stringValue: String) { nil }
        init?(intValue: Int) { nil }
    }
}

extension KeyedEncodingContainer {
    /// A figure as the synthesized encoder writes it (nothing for nil), but null - noted in `figures` - for a
    /// non-finite one.
    mutating func encodeFigure(_ x: Double?, forKey key: Key, _ figures: inout FiniteFigures) throws {
        guard let x else { return }
        if let finite = figures.value(x, key.stringValue) { try encode(finite, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

extension ColourFit {
    /// The fit with a non-finite residual removed (noted); its parameters are checked when it is read.
    func finite(_ figures: inout FiniteFigures, _ name: String) -> ColourFit {
        var fit = self
        fit.residual = figures.value(residual, "\(name).residual")
        return fit
    }
}
