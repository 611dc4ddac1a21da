import CKernels
import Foundation

/// The CPU features the kernels are chosen by, read with cpuid (and checked against the register state the OS saves),
/// never inferred from the CPU's model name: a VM or a CPU newer than the libraries must still get its fast kernels.
public struct CPUFeatures: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse3 = CPUFeatures(rawValue: UInt32(CK_SSE3))
    public static let avx = CPUFeatures(rawValue: UInt32(CK_AVX))
    public static let avx2 = CPUFeatures(rawValue: UInt32(CK_AVX2))
    public static let fma = CPUFeatures(rawValue: UInt32(CK_FMA))
    public static let avx512f = CPUFeatures(rawValue: UInt32(CK_AVX512F))
    public static let avx512bw = CPUFeatures(rawValue: UInt32(CK_AVX512BW))
    public static let avx512dq = CPUFeatures(rawValue: UInt32(CK_AVX512DQ))
    public static let avx512vl = CPUFeatures(rawValue: UInt32(CK_AVX512VL))
    /// What OpenBLAS's SkylakeX kernels need.
    public static let avx512: CPUFeatures = [.avx512f, .avx512bw, .avx512dq, .avx512vl]

    /// This machine's features, as the CPU reports them.
    public static var host: CPUFeatures { CPUFeatures(rawValue: UInt32(ck_cpu_features())) }

    /// "GenuineIntel", "AuthenticAMD", ... ("" off x86).
    public static var hostVendor: String {
        var buffer = [CChar](repeating: 0, count: 16)
        ck_cpu_vendor(&buffer)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The features left when the kernels may use instruction sets up to `level` only.
    public func limited(to level: KernelLevel) -> CPUFeatures {
        switch level {
        case .avx512: self
        case .avx2: subtracting(.avx512)
        case .baseline: intersection(.sse3)
        }
    }

    public var description: String {
        let names: [(CPUFeatures, String)] = [(.sse3, "sse3"), (.avx, "avx"), (.avx2, "avx2"), (.fma, "fma"),
                                              (.avx512f, "avx512f"), (.avx512bw, "avx512bw"), (.avx512dq, "avx512dq"),
                                              (.avx512vl, "avx512vl")]
        let present = names.filter { contains($0.0) }.map(\.1)
        return present.isEmpty ? "none" : present.joined(separator: " ")
    }
}

/// The instruction set the own kernels (the Winograd transforms) are compiled for and run with.
public enum KernelLevel: String, Sendable, CaseIterable, Comparable {
    case baseline, avx2, avx512

    public var cValue: Int32 {
        switch self {
        case .baseline: Int32(CK_LEVEL_BASELINE)
        case .avx2: Int32(CK_LEVEL_AVX2)
        case .avx512: Int32(CK_LEVEL_AVX512)
        }
    }

    public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.cValue < b.cValue }
}

/// Which kernels run on a CPU with the given features: the level of the own kernels and the OpenBLAS core to load.
public struct KernelChoice: Sendable, Equatable {
    public var level: KernelLevel
    /// The OPENBLAS_CORETYPE OpenBLAS is loaded with; nil leaves the choice to OpenBLAS (CPUs without AVX, where its
    /// own detection covers every model it has kernels for).
    public var blasCore: String?
    /// Winograd F(4x4, 3x3) for the 3x3 stride-1 convolutions (measured 1.6-2.3x faster than im2col + sgemm here).
    public var winograd: Bool

    public init(level: KernelLevel, blasCore: String?, winograd: Bool) {
        self.level = level
        self.blasCore = blasCore
        self.winograd = winograd
    }

    /// The mapping from features to kernels. AVX-512 (F, BW, DQ, VL) gets OpenBLAS's SkylakeX kernels, AVX2 with FMA its
    /// Haswell kernels (Zen on AMD: the same kernels with AMD's cache blocking), AVX alone its Sandybridge kernels.
    public static func choose(for features: CPUFeatures, vendor: String) -> KernelChoice {
        if features.isSuperset(of: CPUFeatures.avx512.union([.avx2, .fma])) {
            return KernelChoice(level: .avx512, blasCore: "SkylakeX", winograd: true)
        }
        if features.isSuperset(of: [.avx2, .fma]) {
            return KernelChoice(level: .avx2, blasCore: vendor == "AuthenticAMD" ? "Zen" : "Haswell", winograd: true)
        }
        if features.contains(.avx) { return KernelChoice(level: .baseline, blasCore: "Sandybridge", winograd: true) }
        return KernelChoice(level: .baseline, blasCore: nil, winograd: true)
    }
}

/// The kernels this process runs, chosen once from the host CPU.
///
/// Two environment variables exist for measuring the slower paths on a fast CPU, never needed otherwise:
/// `RIGCTL_MAX_ISA=avx2|baseline` restricts the choice to that instruction set (as oneDNN's ONEDNN_MAX_CPU_ISA), and
/// `RIGCTL_WINOGRAD=0` runs every convolution through im2col + sgemm. An OPENBLAS_CORETYPE set by the user is honoured.
public enum Kernels {
    /// The host's features after any `RIGCTL_MAX_ISA` restriction.
    public static let features: CPUFeatures = {
        let host = CPUFeatures.host
        guard let cap = ProcessInfo.processInfo.environment["RIGCTL_MAX_ISA"].flatMap(KernelLevel.init(rawValue:)) else {
            return host
        }
        return host.limited(to: cap)
    }()

    public static let choice: KernelChoice = {
        var choice = KernelChoice.choose(for: features, vendor: CPUFeatures.hostVendor)
        if ProcessInfo.processInfo.environment["RIGCTL_WINOGRAD"] == "0" { choice.winograd = false }
        return choice
    }()

    /// One line for `--version` and the benchmarks: what runs and why.
    public static var summary: String {
        let conv = choice.winograd ? "Winograd F(4x4,3x3) for 3x3 stride-1 convolutions, im2col + sgemm for the rest"
            : "im2col + sgemm"
        let override = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { $0.isEmpty ? "" : ", OPENBLAS_CORETYPE=\($0) from the environment" } ?? ""
        return "kernels: \(conv); transforms \(choice.level.rawValue); OpenBLAS \(BLAS.version) core \(BLAS.coreName)"
            + " (requested \(choice.blasCore ?? "its own detection")\(override)); CPU features \(features)"
    }
}
