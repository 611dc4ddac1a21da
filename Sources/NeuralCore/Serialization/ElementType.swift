/// The element types weight files store; all are converted to float32 on load.
enum ElementType: String, Sendable {
    case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    var size: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The element at `index` of little-endian `raw`, whose bounds the caller checked.
    @inline(__always)
    func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Float {
        let o = index * size
        switch self {
        case .float32: return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
        case .float64: return Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
        case .float16: return halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
        case .bfloat16:
            return Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self))) << 16)
        case .int64: return Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
        case .int32: return Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
        case .int16: return Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
        case .int8: return Float(Int8(bitPattern: raw[o]))
        case .uint8: return Float(raw[o])
        case .bool: return raw[o] != 0 ? 1 : 0
        }
    }

    /// IEEE half to single precision, subnormals, infinities and NaNs included.
    @inline(__always)
    func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        var mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            var e: UInt32 = 113
            while mantissa & 0x400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            return Float(bitPattern: sign | (e << 23) | ((mantissa & 0x3FF) << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}

/// Copies a strided view of a stored array into a contiguous float32 tensor, refusing views that reach outside
/// the storage or that would expand it (stride 0 repeats), so a hostile file cannot make us allocate more than it holds.
func materialize(storage raw: UnsafeRawBufferPointer, type: ElementType, storageCount: Int, offset: Int,
                 shape: [Int], strides: [Int], path: String, tensor name: String) throws -> Tensor {
    func bad(_ detail: String) -> WeightFileError { .badTensor(path: path, tensor: name, detail: detail) }
    guard shape.count == strides.count else { throw bad("\(shape.count) sizes but \(strides.count) strides") }
    guard shape.count <= 64 else { throw bad("\(shape.count) dimensions") }
    guard offset >= 0 else { throw bad("negative storage offset \(offset)") }
    guard raw.count / type.size >= storageCount else { throw bad("storage holds fewer than \(storageCount) elements") }
    var count = 1
    for (size, stride) in zip(shape, strides) {
        guard size >= 0, stride >= 0 else { throw bad("negative size or stride in \(shape) / \(strides)") }
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw bad("shape \(shape) overflows") }
        count = product
    }
    if count == 0 { return Tensor(shape: shape, data: []) }
    guard count <= storageCount else {
        throw bad("a view of \(count) elements over a storage of \(storageCount) (repeated elements are refused)")
    }
    var last = offset
    for (size, stride) in zip(shape, strides) {
        let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
        let (sum, o2) = last.addingReportingOverflow(step)
        guard !o1, !o2 else { throw bad("view overflows") }
        last = sum
    }
    guard last < storageCount else {
        throw bad("view (offset \(offset), shape \(shape), strides \(strides)) reaches element \(last) of a storage of \(storageCount)")
    }
    var data = [Float](repeating: 0, count: count)
    var contiguous = true
    var expected = 1
    for (size, stride) in zip(shape, strides).reversed() where size != 1 {
        if stride != expected { contiguous = false }
        expected *= size
    }
    data.withUnsafeMutableBufferPointer { out in
        if contiguous {
            if type == .float32 {
                out.withMemoryRebound(to: UInt8.self) { dst in
                    UnsafeMutableRawBufferPointer(dst).copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: raw[(offset * 4)..<((offset + count) * 4)]))
                }
                #if _endian(big)
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
                #endif
            } else {
                for i in 0..<count { out[i] = type.load(raw, offset + i) }
            }
            return
        }
        var index = [Int](repeating: 0, count: shape.count)
        var position = offset
        for i in 0..<count {
            out[i] = type.load(raw, position)
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                position += strides[d]
                if index[d] < shape[d] { break }
                position -= strides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
    return Tensor(shape: shape, data: data)
}

extension Dictionary where Key == String, Value == Tensor {
    /// The tensors, after checking that every value is finite. Weight files may hold NaN and infinities (the readers
    /// keep them, bit for bit); a network must not: one NaN weight poisons every output pixel it reaches, so model
    /// loaders refuse the file here, naming the tensor, rather than let it surface as a crash or a black image.
    public func requiringFiniteValues(path: String) throws -> TensorDictionary {
        for name in keys.sorted() {
            guard let tensor = self[name], let index = tensor.data.firstIndex(where: { !$0.isFinite }) else { continue }
            let bad = tensor.data.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            throw WeightFileError.badTensor(path: path, tensor: name, detail: "\(bad) of \(tensor.count) values are not "
                                            + "finite (element \(index) is \(tensor.data[index])); the weights are unusable")
        }
        return self
    }
}
