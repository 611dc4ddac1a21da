import Foundation
import GRDB
import PairVocabulary

// The pair vocabulary's enums are stored by their raw values. Reading one back goes through `Row.decode`, which
// throws on a value the enum does not know (a hand-edited or newer catalogue), instead of guessing.
extension Verdict: DatabaseValueConvertible {}
extension ReviewState: DatabaseValueConvertible {}
extension Split: DatabaseValueConvertible {}
extension ShotRole: DatabaseValueConvertible {}
extension ColourModel: DatabaseValueConvertible {}
extension TriggerMode: DatabaseValueConvertible {}

// Ids are stored as the row ids they are.
extension RowID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> RowID? { Int64.fromDatabaseValue(dbValue).map { RowID(rawValue: $0) } }
}

/// A calibration is stored as its canonical JSON, so that SQL can compare two of them as text.
extension AlignmentCalibration: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { canonicalJSON.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> AlignmentCalibration? {
        String.fromDatabaseValue(dbValue).flatMap { try? AlignmentCalibration(canonicalJSON: $0) }
    }
}

extension Row {
    /// A vocabulary value of a catalogue row, or an error naming the table, row and column.
    func vocabulary<Value: DatabaseValueConvertible>(_ column: String, of table: String, id: Int64?) throws -> Value {
        do {
            return try decode(Value.self, forColumn: column)
        } catch {
            let stored = self[column] as DatabaseValue? ?? .null
            throw DatasetError.database("\(table) \(id.map(String.init) ?? "?") has \(column) \(stored.description), "
                                        + "which this version of rigctl does not know")
        }
    }
}
