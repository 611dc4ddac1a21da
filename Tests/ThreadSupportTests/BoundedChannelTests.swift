import Foundation
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

/// Back-pressure: with nobody receiving, a sender fills the channel to its capacity and then waits; it does not
/// get further however long it is left, and each receive lets exactly one more element in.
@Test func aFullChannelHoldsTheSenderBack() throws {
    let channel = BoundedChannel<Int>(capacity: 3)
    let sent = LockedValue(0)
    let producer = try JoinableThread(name: "producer") {
        for i in 0..<10 {
            guard channel.send(i) else { break }
            sent.withLock { $0 += 1 }
        }
    }
    func waitFor(_ n: Int) {
        for _ in 0..<5000 where sent.value < n { usleep(1000) }
    }
    waitFor(3)
    usleep(100_000)  // room for a sender that ignored the capacity to run ahead (the correct one cannot)
    #expect(sent.value == 3)
    #expect(channel.receive() == 0)
    waitFor(4)
    usleep(50_000)
    #expect(sent.value == 4)
    channel.close()
    producer.join()
    #expect(sent.value == 4, "a send after close was accepted")
    // What was queued before the close is still delivered, in order, then nil.
    #expect([channel.receive(), channel.receive(), channel.receive(), channel.receive()] == [1, 2, 3, nil])
    #expect(channel.send(99) == false)
}

/// `offer` never waits: it takes what fits, refuses the rest (and everything once closed); capacity 0 takes nothing.
@Test func offerTakesWhatFitsAndNeverWaits() {
    let channel = BoundedChannel<Int>(capacity: 2)
    #expect(channel.offer(1))
    #expect(channel.offer(2))
    #expect(!channel.offer(3))
    #expect(channel.count == 2)
    #expect(channel.receive() == 1)
    #expect(channel.offer(4))
    channel.close()
    #expect(!channel.offer(5))
    #expect([channel.receive(), channel.receive(), channel.receive()] == [2, 4, nil])

    let none = BoundedChannel<Int>(capacity: 0)
    #expect(!none.offer(1))
    #expect(none.count == 0)
}
