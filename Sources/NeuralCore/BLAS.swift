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
