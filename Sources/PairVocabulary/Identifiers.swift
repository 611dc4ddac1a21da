/// A pair's number in its catalogue. Its own type, so that a capture's number cannot be passed where a pair's is
/// meant (both are SQLite row ids), and so that a lookup by id is not a lookup by text. Written as the bare number
/// in JSON, URLs and messages.
public struct PairID: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral {
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { rawValue = value }

    /// A number as a person or a URL writes it; nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard let value = Int64(text) else { return nil }
        rawValue = value
    }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int64.self) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public static func < (a: PairID, b: PairID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A capture's number in its catalogue (see `PairID`).
public struct CaptureID: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
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

    public static func < (a: CaptureID, b: CaptureID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}
