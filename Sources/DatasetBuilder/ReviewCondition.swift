import Foundation
import GRDB

/// A numeric condition on one figure of a pair, `FIELD OP VALUE` (`quality.p95Shift>0.5`, `score.ifan.psnr<30`,
/// `skew<=0.002`): the queue's filter by any score or alignment figure. The field is any numeric sort field; a pair
/// that lacks the figure never matches, whatever the comparison.
public struct ReviewCondition: Sendable, Equatable, Hashable {
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", notEqual = "!=", less = "<", greater = ">", equal = "="
    }

    public var field: ReviewSortField
    public var comparison: Comparison
    public var value: Double

    public init(field: ReviewSortField, comparison: Comparison, value: Double) {
        self.field = field
        self.comparison = comparison
        self.value = value
    }

    /// Why a condition's text cannot be read, in words for the person who typed it.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses `FIELD OP VALUE` with OP one of `< <= > >= = !=` (spaces around it allowed).
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // Two-character operators are tried first, so `<=` is not read as `<` followed by `=0.5`.
        var found: (Range<String.Index>, Comparison)?
        for comparison in Comparison.allCases {
            if let range = trimmed.range(of: comparison.rawValue),
               found == nil || range.lowerBound < found!.0.lowerBound {
                found = (range, comparison)
            }
        }
        guard let (range, comparison) = found else {
            throw ParseError(description: "condition \(text) has no comparison: write FIELD<VALUE, e.g. quality.p95Shift>0.5")
        }
        let name = trimmed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let number = trimmed[range.upperBound...].trimmingCharacters(in: .whitespaces)
        guard let field = ReviewSortField(name) else {
            throw ParseError(description: "condition \(text): \(name.isEmpty ? "no field" : "unknown field \(name)"); fields are skew, colourResidual, quality.KEY, score.MODEL.METRIC")
        }
        switch field {
        case .id, .name, .scene:
            throw ParseError(description: "condition \(text): \(name) is not a figure; filter by scene with scene=")
        default: break
        }
        guard let value = Double(number), value.isFinite else {
            throw ParseError(description: "condition \(text): \(number.isEmpty ? "no value" : "\(number) is not a number")")
        }
        self.init(field: field, comparison: comparison, value: value)
    }

    /// The text `init(parsing:)` reads.
    public var text: String {
        let number = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        return field.text + comparison.rawValue + number
    }

    /// Conditions as the queue's `where` parameter writes them: comma-separated, all must hold.
    public static func parseList(_ text: String) throws -> [ReviewCondition] {
        try text.split(separator: ",").map { String($0) }.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { try ReviewCondition(parsing: $0) }
    }

    public static func listText(_ conditions: [ReviewCondition]) -> String {
        conditions.map(\.text).joined(separator: ",")
    }
}
