import TestSupport
import Foundation
import PairVocabulary
import NeuralCore
import Testing

/// Seeded mutations of a valid file: truncations, bit flips, byte overwrites with boundary values, and
/// splices of large little-endian integers (the sizes and offsets a hostile file would lie about).
func mutations(of base: [UInt8], count: Int, seed: UInt64, focus: Range<Int>? = nil) -> [[UInt8]] {
    var g = SplitMix64(seed: seed)
    let region = focus ?? 0..<base.count
    var out: [[UInt8]] = []
    for i in 0..<count {
        var m = base
        switch i % 5 {
        case 0:
            m = Array(m.prefix(Int.random(in: 0..<base.count, using: &g)))
        case 1:
            for _ in 0..<Int.random(in: 1...4, using: &g) {
                m[Int.random(in: region, using: &g)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &g)
            }
        case 2:
            let p = Int.random(in: region, using: &g)
            m[p] = [0x00, 0xFF, 0x7F, 0x80, 0x30, 0x39][Int.random(in: 0..<6, using: &g)]
        case 3:
            let p = Int.random(in: region.lowerBound..<max(region.lowerBound + 1, region.upperBound - 8), using: &g)
            let v: UInt64 = [UInt64.max, UInt64(Int64.max), 0xFFFF_FFFF, 0x8000_0000, 1 << 40, 0][Int.random(in: 0..<6, using: &g)]
            for k in 0..<min(8, m.count - p) { m[p + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        default:
            let p = Int.random(in: region, using: &g)
            let n = Int.random(in: 1...16, using: &g)
            if Bool.random(using: &g) {
                m.removeSubrange(p..<min(m.count, p + n))
            } else {
                m.insert(contentsOf: (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }, at: p)
            }
        }
        out.append(m)
    }
    return out
}

@Test func fuzzSafetensorsReader() throws {
    let base = [UInt8](try SafeTensors.encode(sampleTensors(), metadata: ["k": "v"]))
    let headerEnd = 8 + Int(base.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    var failures: [String] = []
    var accepted = 0
    let all = mutations(of: base, count: 250, seed: 1, focus: 0..<headerEnd) + mutations(of: base, count: 100, seed: 2)
    for (i, m) in all.enumerated() {
        if let f = expectOnlyWeightFileErrors("mutation \(i)", {
            _ = try SafeTensors.decode(Data(m), path: "fuzz")
            _ = try SafeTensors.decodeMetadata(Data(m), path: "fuzz")
            accepted += 1
        }) { failures.append(f) }
    }
    #expect(failures.isEmpty, "\(failures)")
    #expect(accepted < all.count)  // the mutations do reach the checks
}

@Test func fuzzTorchZipReader() throws {
    let views = [
        TorchView(name: "a.weight", storage: "0", storageCount: 24, shape: [2, 3, 4], strides: [12, 4, 1]),
        TorchView(name: "a.t", storage: "0", storageCount: 24, offset: 1, shape: [3, 2], strides: [2, 6]),
        TorchView(name: "b", storage: "1", storageType: "HalfStorage", storageCount: 4, shape: [2, 2], strides: [2, 1]),
    ]
    let pickle = torchStateDictPickle(views)
    let base = makeZip([("top/data.pkl", pickle), ("top/data/0", floatBytes((0..<24).map(Float.init))),
                        ("top/data/1", [0, 0x3C, 0, 0x40, 0, 0x42, 0, 0x44])])
    _ = try TorchCheckpoint.decode(Data(base), path: "base")
    var failures: [String] = []
    // Whole-file mutations (CRC makes most data changes fail) ...
    var cases = mutations(of: base, count: 250, seed: 3)
    // ... and mutations of the pickle itself, repackaged with a valid CRC so they reach the pickle machine.
    for m in mutations(of: pickle, count: 300, seed: 4) {
        cases.append(makeZip([("top/data.pkl", m), ("top/data/0", floatBytes((0..<24).map(Float.init))),
                              ("top/data/1", [0, 0x3C, 0, 0x40, 0, 0x42, 0, 0x44])]))
    }
    for (i, m) in cases.enumerated() {
        if let f = expectOnlyWeightFileErrors("mutation \(i)", { _ = try TorchCheckpoint.decode(Data(m), path: "fuzz") }) {
            failures.append(f)
        }
    }
    #expect(failures.isEmpty, "\(failures)")
}

@Test func fuzzLegacyTorchReader() throws {
    let base = [UInt8](try Data(contentsOf: fixture("metrics/lpips_v0.1_alex_lin.pth")))
    _ = try TorchCheckpoint.decode(Data(base), path: "base")
    var failures: [String] = []
    for (i, m) in (mutations(of: base, count: 250, seed: 5, focus: 0..<1361) + mutations(of: base, count: 50, seed: 6)).enumerated() {
        if let f = expectOnlyWeightFileErrors("mutation \(i)", { _ = try TorchCheckpoint.decode(Data(m), path: "fuzz") }) {
            failures.append(f)
        }
    }
    #expect(failures.isEmpty, "\(failures)")
}

@Test func fuzzNumpyPickleReader() throws {
    let base = flaxStylePickle()
    _ = try NumpyPickle.decode(Data(base), path: "base")
    var failures: [String] = []
    for (i, m) in mutations(of: base, count: 300, seed: 9).enumerated() {
        if let f = expectOnlyWeightFileErrors("mutation \(i)", { _ = try NumpyPickle.decode(Data(m), path: "fuzz") }) {
            failures.append(f)
        }
    }
    #expect(failures.isEmpty, "\(failures)")
}

@Test func fuzzRealZipCheckpointHeaders() throws {
    let base = [UInt8](try Data(contentsOf: fixture("metrics/alexnet_random_features.pth")))
    var failures: [String] = []
    // The pickle at the start and the central directory at the end: where the structure lives.
    let cases = mutations(of: base, count: 30, seed: 7, focus: 0..<1100)
        + mutations(of: base, count: 30, seed: 8, focus: (base.count - 1500)..<base.count)
    for (i, m) in cases.enumerated() {
        if let f = expectOnlyWeightFileErrors("mutation \(i)", { _ = try TorchCheckpoint.decode(Data(m), path: "fuzz") }) {
            failures.append(f)
        }
    }
    #expect(failures.isEmpty, "\(failures)")
}

@Test func hostilePicklesAreRefusedNotObeyed() throws {
    func refuse(_ label: String, _ build: (inout PickleWriter) -> Void) {
        var w = PickleWriter()
        build(&w)
        let zip = makeZip([("t/data.pkl", w.bytes)])
        #expect(throws: WeightFileError.self, "\(label)") { try TorchCheckpoint.decode(Data(zip), path: label) }
        #expect(throws: WeightFileError.self, "\(label)") { try NumpyPickle.decode(Data(w.bytes), path: label) }
    }
    refuse("deep tuples") { w in
        w.int(0)
        for _ in 0..<200_000 { w.op(0x85) }
        w.stop()
    }
    refuse("self-containing list") { w in
        w.op(0x5D); w.op(0x71); w.bytes.append(0)  // EMPTY_LIST, BINPUT 0
        w.op(0x68); w.bytes.append(0); w.op(0x61)  // BINGET 0, APPEND
        w.stop()
    }
    refuse("self-containing dict") { w in
        w.op(0x7D); w.op(0x71); w.bytes.append(0)
        w.string("x"); w.op(0x68); w.bytes.append(0); w.op(0x73)
        w.stop()
    }
    refuse("huge string length") { w in
        w.op(0x58); w.u32(0xFFFF_FFF0)
    }
    refuse("stack underflow") { w in w.op(0x52) }
    refuse("memo miss") { w in w.op(0x6A); w.u32(123_456) }
    refuse("no stop") { w in w.int(1) }
    refuse("endless name") { w in w.op(0x63); w.bytes += Array(repeating: 0x61, count: 10_000) }
    refuse("mark without tuple") { w in w.mark(); w.stop() }
}
