import CKernels

/// How the process's C allocator treats the large blocks the networks allocate and free layer after layer.
public enum AllocatorPolicy {
    /// Keep freed memory for reuse instead of unmapping every large block (glibc maps each block over 32 MB
    /// afresh, and the kernel zeroes its pages again): a 6000x4000 deblur's system time went from 40.8 s to 2.5 s
    /// and its wall time from 116.5 s to 93.3 s, for 16 % more peak memory, which stays the process's until it
    /// exits (docs/ifan.md). Process-wide, and only for threads that had not allocated yet, so a program's entry
    /// point calls it first (`rigctl`, `IFANBenchmark`), never a library.
    /// Returns whether the allocator took it (false off glibc).
    @discardableResult
    public static func retainFreedMemory() -> Bool { ck_retain_freed_memory() == 1 }

    /// Bytes the allocator holds free for reuse (nil off glibc): what `retainFreedMemory` keeps.
    public static var freeBytes: Int? {
        let bytes = ck_allocator_free_bytes()
        return bytes < 0 ? nil : Int(bytes)
    }
}
