/// A record's number in its catalogue (an SQLite row id), typed by what it numbers, so that a capture's number
/// cannot be passed where a pair's is meant and a lookup by id is not a lookup by text. Written as the bare number
/// in JSON, URLs and messages.
public struct RowID<Kind>: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral {
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { rawValue = value }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int64.self) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public static func < (a: RowID, b: RowID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// What the id types number (never instantiated).
public enum PairRecord {}
public enum CaptureRecord {}

public typealias PairID = RowID<PairRecord>
public typealias CaptureID = RowID<CaptureRecord>
