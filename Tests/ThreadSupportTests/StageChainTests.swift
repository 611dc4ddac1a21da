import Foundation
import Testing
import ThreadSupport

/// Three stages and the consumer: every item arrives once, transformed by each stage, in input order, and no stage
/// runs more than a bounded number of items ahead of the consumer (one in each channel, one in each stage's hand).
@Test func stagesDeliverInOrderAndStayBounded() throws {
    let started = LockedValue(0)
    let chain = try StageChain<Int>.start(name: "first", inputs: Array(0..<200)) { index, value in
        started.withLock { $0 += 1 }
        #expect(index == value)
        return (value * 10, true)
    }
    .then(name: "second") { ($0 + 1, true) }
    .then(name: "third") { (String($0), true) }
    defer { chain.finish() }
    var got: [String] = []
    var worstLead = 0
    while let item = chain.receive() {
        got.append(item)
        worstLead = max(worstLead, started.value - got.count)
    }
    let expected: [String] = (0..<200).map { (i: Int) -> String in String(i * 10 + 1) }
    #expect(got == expected)
    // In flight beyond the consumer: the first stage's item in hand, three channels, two stages' items in hand.
    #expect(worstLead <= 6, "\(worstLead)")
}

/// A stage that says `more: false` passes that item on and stops; the stages after it end once it is through.
@Test func aStageThatStopsEndsTheChainAfterItsItem() throws {
    let seen = LockedValue<[Int]>([])
    let chain = try StageChain<Int>.start(name: "first", inputs: Array(0..<50)) { _, value in (value, value != 3) }
    .then(name: "second") { value in
        seen.withLock { $0.append(value) }
        return (value, true)
    }
    var got: [Int] = []
    while let item = chain.receive() { got.append(item) }
    chain.finish()
    #expect(got == [0, 1, 2, 3])
    #expect(seen.value == [0, 1, 2, 3])
}

/// A consumer that gives up early: finish() wakes the stages waiting to send and joins them, however many items
/// were left; a cancellation stops the stages before their next item.
@Test func finishingEarlyStopsEveryStage() throws {
    let done = LockedValue(0)
    let chain = try StageChain<Int>.start(name: "first", inputs: Array(0..<1000)) { _, v in
        done.withLock { $0 += 1 }
        return (v, true)
    }
    .then(name: "second") { ($0, true) }
    #expect(chain.receive() == 0)
    chain.finish()
    #expect(done.value < 1000)

    let cancelled = LockedValue(false)
    let second = try StageChain<Int>.start(name: "first", inputs: Array(0..<1000), isCancelled: { cancelled.value }) { _, v in
        (v, true)
    }
    .then(name: "second", isCancelled: { cancelled.value }) { ($0, true) }
    defer { second.finish() }
    #expect(second.receive() == 0)
    cancelled.withLock { $0 = true }
    var after = 0
    while second.receive() != nil { after += 1 }
    // Only what was already in the channels and in the stages' hands when the flag was set.
    #expect(after <= 4, "\(after)")
}
