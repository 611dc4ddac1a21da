import Foundation

extension VirtualRig {
    /// A virtual trigger box wired to this rig's release sockets: when its `S` fires output `shallowOutput`
    /// (1-based, as numbered on a box), the shallow camera releases `shallowLatency` seconds later, and likewise the
    /// deep one. The latencies stand for each body's release lag, so the arrival skew of the pairs a capture
    /// records can be checked against them.
    public func wiredTriggerBox(shallowOutput: Int = 1, deepOutput: Int = 2, shallowLatency: Double = 0,
                                deepLatency: Double = 0) throws -> VirtualTriggerBox {
        let wiring = [(shallow, shallowOutput, shallowLatency), (deep, deepOutput, deepLatency)]
        return try VirtualTriggerBox { fired in
            // Released off the box's thread, as a body's own release circuit would: the box answers its next
            // instruction while the cameras expose.
            for (camera, output, latency) in wiring where fired.contains(output - 1) {
                DispatchQueue.global().asyncAfter(deadline: .now() + latency) { _ = camera.externalRelease() }
            }
        }
    }
}
