import Foundation
import NeuralCore
import Testing

let avx2Machine: CPUFeatures = [.sse3, .avx, .avx2, .fma]
let avx512Machine: CPUFeatures = avx2Machine.union(.avx512)

@Test func avx512GetsTheSkylakeXKernels() {
    for vendor in ["GenuineIntel", "AuthenticAMD", ""] {
        let choice = KernelChoice.choose(for: avx512Machine, vendor: vendor)
        #expect(choice == KernelChoice(level: .avx512, blasCore: "SkylakeX", winograd: true), "\(vendor)")
    }
}

@Test func avx2GetsHaswellOrZenKernels() {
    #expect(KernelChoice.choose(for: avx2Machine, vendor: "GenuineIntel")
        == KernelChoice(level: .avx2, blasCore: "Haswell", winograd: true))
    #expect(KernelChoice.choose(for: avx2Machine, vendor: "AuthenticAMD")
        == KernelChoice(level: .avx2, blasCore: "Zen", winograd: true))
    // AVX-512F alone (no BW/DQ/VL, as on Xeon Phi) is not enough for the SkylakeX kernels.
    #expect(KernelChoice.choose(for: avx2Machine.union(.avx512f), vendor: "GenuineIntel").blasCore == "Haswell")
    // AVX2 without FMA cannot run the Haswell kernels.
    #expect(KernelChoice.choose(for: [.sse3, .avx, .avx2], vendor: "GenuineIntel").blasCore == "Sandybridge")
}

@Test func olderCPUsAreLeftToOpenBLAS() {
    #expect(KernelChoice.choose(for: [.sse3, .avx], vendor: "GenuineIntel").blasCore == "Sandybridge")
    let plain = KernelChoice.choose(for: [.sse3], vendor: "GenuineIntel")
    #expect(plain.blasCore == nil && plain.level == .baseline)
}

/// The restriction used to measure the AVX2 path on an AVX-512 machine.
@Test func restrictingTheInstructionSet() {
    #expect(avx512Machine.limited(to: .avx2) == avx2Machine)
    #expect(avx512Machine.limited(to: .avx512) == avx512Machine)
    #expect(avx512Machine.limited(to: .baseline) == [.sse3])
    #expect(KernelChoice.choose(for: avx512Machine.limited(to: .avx2), vendor: "GenuineIntel").level == .avx2)
}

/// cpuid agrees with the kernel's view of the CPU (/proc/cpuinfo flags), for every feature the choice depends on.
@Test func cpuidAgreesWithTheOperatingSystem() throws {
    #if os(Linux) && arch(x86_64)
    let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    let line = try #require(info.split(separator: "\n").first { $0.hasPrefix("flags") })
    let flags = Set(line.split(separator: ":")[1].split(separator: " ").map(String.init))
    let host = CPUFeatures.host
    let pairs: [(CPUFeatures, String)] = [(.sse3, "pni"), (.avx, "avx"), (.avx2, "avx2"), (.fma, "fma"),
                                          (.avx512f, "avx512f"), (.avx512bw, "avx512bw"), (.avx512dq, "avx512dq"),
                                          (.avx512vl, "avx512vl")]
    for (feature, name) in pairs {
        #expect(host.contains(feature) == flags.contains(name), "\(name)")
    }
    #endif
}

/// On this machine: OpenBLAS runs the core chosen from the features (not its SSE3 fallback when AVX2 is there), and
/// the 3x3 layers run Winograd compiled for the best instruction set the CPU has.
@Test func theHostRunsTheKernelsItsFeaturesAllow() throws {
    let environment = ProcessInfo.processInfo.environment
    let features = Kernels.features
    if let forced = environment["OPENBLAS_CORETYPE"], !forced.isEmpty {
        #expect(BLAS.coreName.lowercased() == forced.lowercased())
    } else if let core = Kernels.choice.blasCore {
        #expect(BLAS.coreName.lowercased() == core.lowercased())
    }
    if features.isSuperset(of: [.avx2, .fma]), environment["OPENBLAS_CORETYPE"] == nil {
        #expect(BLAS.coreName != "Prescott")
        #expect(Kernels.choice.level >= .avx2)
    }
    if features.isSuperset(of: avx512Machine) {
        #expect(BLAS.coreName == "SkylakeX" || environment["OPENBLAS_CORETYPE"] != nil)
        #expect(Kernels.choice.level == .avx512)
    }
    if environment["RIGCTL_WINOGRAD"] != "0" {
        let conv = try Conv2D(weight: Tensor(zeros: [64, 64, 3, 3]), bias: nil)
        #expect(conv.algorithm == .winograd(Kernels.choice.level))
    }
    #expect(Kernels.summary.contains(BLAS.coreName))
}
