import Foundation
import NeuralCore
import ThreadSupport

/// Element-wise passes over whole feature maps, split into chunks so that both cores share them.
enum Elementwise {
    static let chunk = 1 << 16

    /// `target = activation(target + other)`.
    static func add(_ other: Tensor, into target: inout Tensor, activation: Activation = .none) {
        precondition(other.shape == target.shape, "element-wise shapes \(other.shape) and \(target.shape)")
        let n = target.count
        other.data.withUnsafeBufferPointer { src in
            target.data.withUnsafeMutableBufferPointer { dst in
                let s = SendablePointer(src.baseAddress!), d = SendablePointer(dst.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { part in
                    let lo = part * chunk, hi = min(n, lo + chunk)
                    switch activation {
                    case .none:
                        for i in lo..<hi { d.pointer[i] += s.pointer[i] }
                    case .leakyReLU(let slope):
                        for i in lo..<hi {
                            let v = d.pointer[i] + s.pointer[i]
                            d.pointer[i] = v >= 0 ? v : v * slope
                        }
                    case .relu:
                        for i in lo..<hi { d.pointer[i] = max(d.pointer[i] + s.pointer[i], 0) }
                    }
                }
            }
        }
    }

    /// Clamps every value into [lo, hi].
    static func clip(_ target: inout Tensor, _ lo: Float, _ hi: Float) {
        let n = target.count
        target.data.withUnsafeMutableBufferPointer { dst in
            let d = SendablePointer(dst.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { part in
                for i in (part * chunk)..<min(n, part * chunk + chunk) { d.pointer[i] = min(max(d.pointer[i], lo), hi) }
            }
        }
    }
}
