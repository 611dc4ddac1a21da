import Foundation
import NeuralCore
import Testing

@Suite struct AllocatorPolicyTests {
    /// A freed 16 MB block (a feature map of a 1280x720 tile's half resolution) is still the allocator's, for the
    /// next layer: glibc would map it afresh (it is over the default mmap threshold) and unmap it on free. In a
    /// process whose heap already holds that much free the check shows nothing; alone, it fails without the policy.
    /// AddressSanitizer's allocator ignores the policy, so under it there is nothing to check.
    @Test func aFreedLargeBlockStaysForReuse() throws {
        guard dlsym(nil, "__asan_init") == nil else { return }
        #expect(AllocatorPolicy.retainFreedMemory())
        let count = 16 << 18
        let block = UnsafeMutablePointer<Float>.allocate(capacity: count)
        block.initialize(repeating: 1, count: count)
        #expect(block[count - 1] == 1)
        block.deallocate()
        let free = try #require(AllocatorPolicy.freeBytes)
        #expect(free >= 16 << 20, "free bytes after: \(free)")
    }
}
