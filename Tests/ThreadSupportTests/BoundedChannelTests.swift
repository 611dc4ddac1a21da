import Testing
import ThreadSupport

/// Everything sent arrives once, in order, and the sender never runs more than `capacity` ahead.
@Test func channelDeliversInOrderWithinItsCapacity() throws {
    let channel = BoundedChannel<Int>(capacity: 2)
    let sent = LockedValue(0), received = LockedValue(0), worstLead = LockedValue(0)
    let producer = try JoinableThread(name: "producer") {
        for i in 0..<500 {
            #expect(channel.send(i))
            sent.withLock { $0 += 1 }
        }
        channel.close()
    }
    var got: [Int] = []
    while let value = channel.receive() {
        got.append(value)
        let lead = sent.value - received.withLock { $0 += 1; return $0 }
        worstLead.withLock { $0 = max($0, lead) }
    }
    producer.join()
    #expect(got == Array(0..<500))
    // The producer may have one element in hand beyond the queue's two when it is counted.
    #expect(worstLead.value <= 3)
}

/// A receiver that gives up closes the channel: a sender waiting for room wakes with false and stops.
@Test func closingWakesAWaitingSender() throws {
    let channel = BoundedChannel<Int>(capacity: 1)
    let results = LockedValue<[Bool]>([])
    let producer = try JoinableThread(name: "producer") {
        for i in 0..<3 {
            let ok = channel.send(i)
            results.withLock { $0.append(ok) }
            if !ok { break }
        }
    }
    #expect(channel.receive() == 0)
    channel.close()
    producer.join()
    // 0 was sent; 1 went into the queue before the close (and 2 was refused) or was refused itself.
    let r = results.value
    #expect(r == [true, true, false] || r == [true, false], "\(r)")
    #expect(channel.receive() == (r.count == 3 ? 1 : nil))
    #expect(channel.receive() == nil)
}
