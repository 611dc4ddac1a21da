import Foundation
import Testing
import ThreadSupport

/// The barrier the two cameras' threads meet at before the trigger.
@Suite struct StartBarrierTests {
    /// Nobody passes before the last party arrives; then all pass.
    @Test func partiesPassTogether() throws {
        let barrier = StartBarrier(parties: 2)
        let passed = LockedValue(0)
        let first = try JoinableThread(name: "first") {
            barrier.arriveAndWait()
            passed.withLock { $0 += 1 }
        }
        usleep(50_000)
        #expect(passed.value == 0)
        barrier.arriveAndWait()
        first.join()
        #expect(passed.value == 1)
        #expect(!barrier.isCancelled)
    }

    /// A party that fails before arriving cancels the barrier: the one waiting is released and sees it.
    @Test func cancellingReleasesTheWaitingParty() throws {
        let barrier = StartBarrier(parties: 2)
        let sawCancel = LockedValue(false)
        let waiter = try JoinableThread(name: "waiter") {
            barrier.arriveAndWait()
            sawCancel.withLock { $0 = barrier.isCancelled }
        }
        usleep(20_000)
        barrier.cancel()
        waiter.join()
        #expect(sawCancel.value)
    }
}
