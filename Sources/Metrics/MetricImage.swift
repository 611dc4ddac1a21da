import Foundation
import NeuralCore
import ThreadSupport

/// An RGB image as the metrics read it: planar (R plane, G plane, B plane), values in [0, 1], in double precision,
/// because PSNR, SSIM and MAE are compared with reference tools that compute in double.
public struct MetricImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// R plane, then G, then B; row-major.
    public let pixels: [Double]

    public init(width: Int, height: Int, pixels: [Double]) throws {
        guard width > 0, height > 0, pixels.count == 3 * width * height else {
            throw MetricsError.badImage("\(pixels.count) values do not make a \(width)x\(height) RGB image")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// From float32 planes (as decoders produce them). A value within float32 rounding of an 8-bit level k/255
    /// (|255 v - k| < 1e-4) is taken as k/255 in double, so 8-bit files score exactly as tools that divide by 255
    /// in double do; 16-bit levels other than multiples of 257 lie at least 1/257 of a level away, so they and all
    /// other values are widened unchanged.
    ///
    /// The level is rounded by adding and taking away 1.5 * 2^52 (exact below 2^51), since `rounded()` is a call to
    /// libm on baseline x86-64; it rounds ties to even where `rounded()` rounds them away from zero, but a tie lies
    /// 0.5 from both levels, so neither is taken. Beyond 2^16 the plain `rounded()` decides, as before.
    /// Bands of values are converted in parallel, straight into uninitialised memory (its pages are first touched,
    /// and zeroed by the system, by the threads that fill them).
    public init(width: Int, height: Int, planar: [Float]) throws {
        guard !planar.isEmpty else { try self.init(width: width, height: height, pixels: []); return }
        let magic = 6755399441055744.0
        let count = planar.count, band = 1 << 16
        let out = planar.withUnsafeBufferPointer { source in
            let src = SendablePointer(source.baseAddress!)
            return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                let dst = SendablePointer(buffer.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: (count + band - 1) / band) { task in
                    for i in (task * band)..<min(count, (task + 1) * band) {
                        let value = Double(src.pointer[i]), scaled = value * 255
                        let level = abs(scaled) < 65536 ? (scaled + magic) - magic : Self.rounded(scaled)
                        dst.pointer[i] = abs(scaled - level) < 1e-4 ? level / 255 : value
                    }
                }
                initialized = count
            }
        }
        try self.init(width: width, height: height, pixels: out)
    }

    /// `rounded()` out of line, so that the compiler does not call it for every value (it would, to spare a branch).
    @inline(never) static func rounded(_ v: Double) -> Double { v.rounded() }

    /// From a (3, H, W) tensor.
    public init(_ tensor: Tensor) throws {
        guard tensor.rank == 3, tensor.shape[0] == 3 else {
            throw MetricsError.badImage("expected a (3, H, W) tensor, got \(tensor.shape)")
        }
        try self.init(width: tensor.shape[2], height: tensor.shape[1], planar: tensor.data)
    }

    public var planeSize: Int { width * height }

    /// The image as a float32 (3, H, W) tensor, the network's input type.
    public var tensor: Tensor { Tensor(shape: [3, height, width], data: pixels.map { Float($0) }) }
}

/// Why a metric could not be computed.
public enum MetricsError: Error, CustomStringConvertible, Equatable, Sendable {
    case badImage(String)
    case sizeMismatch(output: String, target: String)
    case tooSmall(metric: String, width: Int, height: Int, minimum: Int)
    case badWeights(String)

    public var description: String {
        switch self {
        case .badImage(let detail): "bad image: \(detail)"
        case .sizeMismatch(let output, let target): "the images differ in size: output \(output), target \(target)"
        case .tooSmall(let metric, let w, let h, let minimum):
            "\(metric) needs images of at least \(minimum)x\(minimum) pixels, got \(w)x\(h)"
        case .badWeights(let detail): "LPIPS weights: \(detail)"
        }
    }
}
