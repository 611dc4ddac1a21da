/// A dense float32 tensor in row-major (C) order: the currency between weight files, the network engine and
/// the metrics. Feature maps use (channels, height, width) without a batch axis.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(data.count == shape.reduce(1, *), "\(data.count) values do not fill shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
}

/// Named tensors, as a checkpoint or a safetensors file holds them.
public typealias TensorDictionary = [String: Tensor]
