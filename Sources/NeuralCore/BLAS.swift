import CKernels
import Foundation

/// OpenBLAS, loaded at first use with the core `Kernels.choice` picked from the CPU's features (see ck_blas_load: the
/// library is not linked, because its constructor would pick its kernels from the CPU model before any code runs, and
/// falls back to SSE3 kernels on models it does not know).
public enum BLAS {
    private static let loaded: Bool = {
        let status = Kernels.choice.blasCore.map { core in core.withCString { ck_blas_load($0) } } ?? ck_blas_load(nil)
        return status == 0
    }()

    /// Loads the library if needed; a machine without it cannot run any network, so this stops with a message naming the package.
    static func ensureLoaded() {
        if !loaded {
            FileHandle.standardError.write(Data("rigctl: \(String(cString: ck_blas_error()))\n".utf8))
            exit(1)
        }
    }

    /// OpenBLAS's name of the kernels it runs ("SkylakeX", "Haswell", "Zen", "Prescott", ...).
    public static var coreName: String {
        ensureLoaded()
        return String(cString: ck_blas_corename())
    }

    /// The library's version, from its build configuration ("0.3.21").
    public static var version: String {
        ensureLoaded()
        let config = String(cString: ck_blas_config())
        let words = config.split(separator: " ")
        if let i = words.firstIndex(of: "OpenBLAS"), i + 1 < words.count { return String(words[i + 1]) }
        return config
    }

    public static var threads: Int {
        ensureLoaded()
        return Int(ck_blas_threads())
    }

    public static func setThreads(_ n: Int) {
        ensureLoaded()
        ck_blas_set_threads(Int32(n))
    }

    /// Row-major C = alpha A B + beta C, A m x k, B k x n.
    @inline(__always)
    public static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        ck_sgemm(Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// OpenBLAS's sgemm rate on this machine now, for the benchmarks to compare the kernels with: the best of a few
/// 1024^3 products with OpenBLAS's own threads (one per core) by wall time, and per core by CPU time (which a busy
/// machine distorts less).
public struct SgemmPeak: Sendable {
    public let wall: Double
    public let perCore: Double

    public static func measure(size n: Int = 1024, repetitions: Int = 10) -> SgemmPeak {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        BLAS.setThreads(BLASThreads.workers)
        defer { BLASThreads.useCallerThreadsOnly() }
        var best = 0.0
        let c0 = processCPUSeconds()
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<repetitions {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        BLAS.sgemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, beta: 0,
                                   c: c.baseAddress!, ldc: n)
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        best = max(best, 2 * Double(n * n * n) / seconds / 1e9)
                    }
                }
            }
        }
        // CPU time over all repetitions: per-call CPU times are too coarse to take a best of.
        let perCore = 2 * Double(n * n * n) * Double(repetitions) / (processCPUSeconds() - c0) / 1e9
        return SgemmPeak(wall: best, perCore: perCore)
    }
}

/// User + system CPU seconds of this process so far.
public func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
