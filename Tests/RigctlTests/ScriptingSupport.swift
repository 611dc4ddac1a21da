import Foundation
import PairVocabulary
import Imaging
import TestSupport
import Testing

/// Reading what `rigctl ... --json` printed: the whole of standard output must be one JSON document.
enum JSONOutput {
    static func object(_ result: CommandLine.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let value = try document(result)
        return try #require(value as? [String: Any], "not a JSON object: \(result.stdout)", sourceLocation: sourceLocation)
    }

    static func array(_ result: CommandLine.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let value = try document(result)
        return try #require(value as? [[String: Any]], "not a JSON array of objects: \(result.stdout)", sourceLocation: sourceLocation)
    }

    static func document(_ result: CommandLine.Result) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        } catch {
            throw JSONOutputError(description: "standard output is not JSON alone (\(error)):\n\(result.stdout)\nstderr:\n\(result.stderr)")
        }
    }

    /// Checks that `object` has every required key and no key outside the documented ones (docs/cli-json.md).
    static func expectKeys(_ object: [String: Any]?, required: Set<String>, optional: Set<String> = [],
                           _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let keys = Set(object?.keys.map { $0 } ?? [])
        #expect(required.isSubset(of: keys), "\(what): missing \(required.subtracting(keys).sorted())", sourceLocation: sourceLocation)
        #expect(keys.isSubset(of: required.union(optional)), "\(what): undocumented \(keys.subtracting(required.union(optional)).sorted())",
                sourceLocation: sourceLocation)
    }
}

struct JSONOutputError: Error, CustomStringConvertible {
    var description: String
}

/// A textured test image; different seeds give unrelated images.
func texturedImage(seed: UInt64, width: Int = 160, height: Int = 120) -> RGBImage {
    var random = SplitMix64(seed: seed)
    var image = RGBImage(width: width, height: height)
    for y in 0..<height { for x in 0..<width {
        let v = Float(random.next() % 1000) / 999
        for c in 0..<3 { image[c, x, y] = v }
    } }
    return image
}
