import TestSupport
import Foundation
import PairVocabulary
import NeuralCore
import Testing

func sampleTensors() -> TensorDictionary {
    var g = SplitMix64(seed: 7)
    var t: TensorDictionary = [:]
    t["conv.weight"] = Tensor(shape: [4, 3, 3, 3], data: (0..<108).map { _ in Float.random(in: -1...1, using: &g) })
    t["conv.bias"] = Tensor(shape: [4], data: [0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
    t["special"] = Tensor(shape: [3], data: [.infinity, -.infinity, Float(bitPattern: 0x7FC0_1234)])
    t["scalar"] = Tensor(shape: [], data: [42])
    t["empty"] = Tensor(shape: [0, 5], data: [])
    t["ünïcode \"quoted\"\n"] = Tensor(shape: [1], data: [1])
    return t
}

func bitwiseEqual(_ a: TensorDictionary, _ b: TensorDictionary) -> Bool {
    a.count == b.count && a.allSatisfy { key, t in
        guard let u = b[key] else { return false }
        return t.shape == u.shape && t.data.map(\.bitPattern) == u.data.map(\.bitPattern)
    }
}

@Test func safetensorsRoundTripIsBitExactAndDeterministic() throws {
    let tensors = sampleTensors()
    let metadata = ["format": "pt", "source": "test \u{1}"]
    let a = try SafeTensors.encode(tensors, metadata: metadata)
    let b = try SafeTensors.encode(tensors, metadata: metadata)
    #expect(a == b)
    let headerLength = Int(a.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    #expect(headerLength % 8 == 0)
    #expect(bitwiseEqual(try SafeTensors.decode(a, path: "mem"), tensors))
    #expect(try SafeTensors.decodeMetadata(a, path: "mem") == metadata)

    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("m.safetensors")
    try SafeTensors.write(tensors, metadata: metadata, to: url)
    #expect(try Data(contentsOf: url) == a)
    #expect(bitwiseEqual(try SafeTensors.read(url), tensors))
    #expect(try SafeTensors.readMetadata(url) == metadata)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])
}

/// A file with `header` (as given) and `data`.
func safetensorsFile(_ header: String, _ data: [UInt8]) -> Data {
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    out.append(contentsOf: data)
    return out
}

@Test func safetensorsReadsOtherFloatTypes() throws {
    let header = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}"#
    let data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0x40, 0xC0] + withUnsafeBytes(of: (0.25).bitPattern.littleEndian) { Array($0) }
    let t = try SafeTensors.decode(safetensorsFile(header, data), path: "types")
    #expect(t["h"]?.data == [1, -2])
    #expect(t["b"]?.data == [1, -3])
    #expect(t["d"]?.data == [0.25])
}

@Test(arguments: [
    ("absurd header size", Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) + Data(repeating: 0x20, count: 16)),
    ("header longer than file", safetensorsFile("{}", []).dropLast(1)),
    ("overlap", safetensorsFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, Array(repeating: 0, count: 8))),
    ("out of range", safetensorsFile(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, Array(repeating: 0, count: 8))),
    ("gap", safetensorsFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, Array(repeating: 0, count: 8))),
    ("size mismatch", safetensorsFile(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 8))),
    ("huge dims", safetensorsFile(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 8))),
    ("many dims", safetensorsFile(#"{"a":{"dtype":"F32","shape":["# + Array(repeating: "1", count: 100_000).joined(separator: ",") + #"],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4))),
    ("deep nesting", safetensorsFile(String(repeating: "[", count: 100_000), [])),
    ("number overflow", safetensorsFile(#"{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4))),
    ("unknown dtype", safetensorsFile(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 8))),
    ("duplicate", safetensorsFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, Array(repeating: 0, count: 8))),
    ("not json", safetensorsFile("{\"a\":", [])),
    ("metadata not strings", safetensorsFile(#"{"__metadata__":{"a":1}}"#, [])),
    ("short file", Data([1, 2, 3])),
])
func safetensorsRefusesHostileHeaders(_ label: String, _ file: Data) {
    #expect(throws: WeightFileError.self, "\(label)") { try SafeTensors.decode(file, path: label) }
}
