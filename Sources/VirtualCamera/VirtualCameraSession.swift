import Foundation
import ThreadSupport
import Imaging

/// Connections and PTP/IP framing: the two channels, packets, data phases and events.
extension VirtualCamera {
    // MARK: - Connections

    /// Accepts hosts: the first gets a session on its own thread. A host arriving during a session waits up to a
    /// second for it to end (a host that disconnects and reconnects at once races its own old session), or up to
    /// ten while the old host has closed its session and only its connection remains (on a loaded machine its
    /// thread may take longer than a second to see the close), then is refused with Init Fail (libgphoto2 reports
    /// an error) instead of being left to time out.
    func serve() {
        while !isStopped {
            guard let connection = try? commandListener.accept(timeoutMs: 100) else { continue }
            let busy = state.withLock { s in
                let busy = s.commandConnection != nil
                if !busy { s.commandConnection = connection }
                return busy
            }
            if busy {
                spawnWorker("waiting-host") { [self] in
                    let start = Date()
                    while !isStopped {
                        let (free, closing) = state.withLock { s in
                            let free = s.commandConnection == nil
                            if free { s.commandConnection = connection }
                            return (free, !s.sessionOpen)
                        }
                        if free {
                            runSession(connection)
                            endSession()
                            return
                        }
                        if Date().timeIntervalSince(start) > (closing ? 10 : 1) { break }
                        Thread.sleep(forTimeInterval: 0.01)
                    }
                    refuse(connection)
                }
            } else {
                virtualCameraLog.info("host connected", metadata: ["camera": "\(configuration.name)"])
                spawnWorker("session") { [self] in
                    runSession(connection)
                    endSession()
                    virtualCameraLog.info("host disconnected", metadata: ["camera": "\(configuration.name)"])
                }
            }
        }
    }

    func spawnWorker(_ role: String, _ body: @escaping @Sendable () -> Void) {
        let done = LockedValue(false)
        let thread: JoinableThread
        do {
            thread = try JoinableThread(name: "vcam-\(configuration.name)-\(role)") {
                body()
                done.withLock { $0 = true }
            }
        } catch {
            virtualCameraLog.error("cannot start a session", metadata: ["camera": "\(configuration.name)", "error": "\(error)"])
            return
        }
        let finished = workers.withLock { list in
            let (ended, running) = (list.filter { $0.done.value }, list.filter { !$0.done.value })
            list = running + [(thread, done)]
            return ended
        }
        for worker in finished { worker.thread.join() }
    }

    func refuse(_ connection: TCPConnection) {
        virtualCameraLog.warning("second host refused: the camera serves one host at a time",
                                 metadata: ["camera": "\(configuration.name)"])
        let deadline = Date().addingTimeInterval(2)
        _ = try? connection.read(count: 8, shouldStop: { [self] in isStopped || Date() > deadline })
        var w = PTPWriter()
        w.u32(0x2019)  // reason: the camera is busy with another host
        try? connection.write(Self.packet(.initFail, w.bytes))
        connection.close()
    }

    func endSession() {
        let connections = state.withLock { s in
            let connections = [s.commandConnection, s.eventConnection]
            s.commandConnection = nil
            s.eventConnection = nil
            s.sessionOpen = false
            s.eos.resetSession()
            s.nikonLiveView = false
            s.nikonEvents = []
            return connections
        }
        for c in connections { c?.close() }
    }

    /// Largest packet or data phase accepted from a host (the biggest a host sends is a property value).
    static let maxIncoming = 64 << 20

    func readPacket(_ connection: some PTPIPChannel) throws -> (type: UInt32, payload: [UInt8])? {
        guard let header = try connection.read(count: 8, shouldStop: { isStopped }) else { return nil }
        var reader = PTPReader(header)
        let length = Int(try reader.u32())
        let type = try reader.u32()
        guard length >= 8, length <= Self.maxIncoming else { throw PTPDecodingError(description: "bad packet length \(length)") }
        if length == 8 { return (type, []) }
        guard let payload = try connection.read(count: length - 8, shouldStop: { isStopped }) else { return nil }
        return (type, payload)
    }

    static func packet(_ type: PTPIPPacket, _ payload: [UInt8]) -> [UInt8] {
        var w = PTPWriter()
        w.u32(UInt32(8 + payload.count))
        w.u32(type.rawValue)
        w.bytes += payload
        return w.bytes
    }

    func runSession(_ command: TCPConnection) {
        do {
            guard let request = try readPacket(command), request.type == PTPIPPacket.initCommandRequest.rawValue else { return }
            var ack = PTPWriter()
            ack.u32(1)  // connection number
            ack.bytes += guid
            ack.terminatedString("\(configuration.model) \(configuration.name)")
            ack.u32(0x0001_0000)
            try command.write(Self.packet(.initCommandAck, ack.bytes))

            var eventSocket: TCPConnection?
            let deadline = Date().addingTimeInterval(5)
            while eventSocket == nil, Date() < deadline, !isStopped {
                eventSocket = try eventListener.accept(timeoutMs: 100)
            }
            guard let events = eventSocket else { return }
            state.withLock { s in
                s.eventConnection = events
                s.sessions += 1
            }
            guard let eventRequest = try readPacket(events), eventRequest.type == PTPIPPacket.initEventRequest.rawValue else { return }
            try events.write(Self.packet(.initEventAck, []))
            try serveOperations(command)
        } catch {
            // A broken or malformed connection ends the session; the camera waits for the next host.
        }
    }

    /// Operation requests until the host disconnects: decode, receive the data phase, answer.
    func serveOperations(_ command: some PTPIPChannel) throws {
        while let packet = try readPacket(command) {
            guard packet.type == PTPIPPacket.operationRequest.rawValue else { continue }
            var r = PTPReader(packet.payload)
            let dataPhase = try r.u32()
            let code = try r.u16()
            let transaction = try r.u32()
            var params: [UInt32] = []
            while r.remaining >= 4, params.count < 5 { params.append(try r.u32()) }
            var incoming: [UInt8]?
            if dataPhase == 2 {
                guard let data = try receiveData(command) else { return }
                incoming = data
            }
            let reply = handle(code: code, params: params, data: incoming)
            switch reply {
            case .drop:
                return
            case .answer(let response, let responseParams, let data, let after):
                if let data { try sendData(command, transaction: transaction, bytes: data) }
                var w = PTPWriter()
                w.u16(response)
                w.u32(transaction)
                for p in responseParams { w.u32(p) }
                try command.write(Self.packet(.operationResponse, w.bytes))
                after?()
            }
        }
    }

    var guid: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        for (i, b) in configuration.serialNumber.utf8.enumerated() { bytes[i % 16] ^= b &+ UInt8(i) }
        return bytes
    }

    func receiveData(_ connection: some PTPIPChannel) throws -> [UInt8]? {
        guard let start = try readPacket(connection), start.type == PTPIPPacket.startData.rawValue else { return nil }
        var r = PTPReader(start.payload)
        _ = try r.u32()
        let total = Int(try r.u32())
        // The host announces the size; reserving it unchecked let one Start Data packet make the camera allocate
        // 4 GiB (found by the ptpip fuzz target).
        guard total <= Self.maxIncoming else {
            throw PTPDecodingError(description: "data phase of \(total) bytes announced; at most \(Self.maxIncoming) are accepted")
        }
        var data: [UInt8] = []
        data.reserveCapacity(total)
        while true {
            guard let packet = try readPacket(connection) else { return nil }
            guard packet.type == PTPIPPacket.data.rawValue || packet.type == PTPIPPacket.endData.rawValue else { continue }
            data += packet.payload.dropFirst(4)
            if packet.type == PTPIPPacket.endData.rawValue || data.count >= total { break }
        }
        return data
    }

    func sendData(_ connection: some PTPIPChannel, transaction: UInt32, bytes: [UInt8]) throws {
        var start = PTPWriter()
        start.u32(transaction)
        start.u64(UInt64(bytes.count))
        try connection.write(Self.packet(.startData, start.bytes))
        let rate = state.withLock { s in s.bytesPerSecond }
        let chunk = rate == nil ? 1 << 20 : 16 << 10
        var offset = 0
        repeat {
            let end = min(offset + chunk, bytes.count)
            var w = PTPWriter()
            w.u32(transaction)
            w.bytes += bytes[offset..<end]
            if let rate { Thread.sleep(forTimeInterval: Double(end - offset) / Double(rate)) }
            try connection.write(Self.packet(end == bytes.count ? .endData : .data, w.bytes))
            offset = end
        } while offset < bytes.count
    }

    func sendEvent(_ code: UInt16, _ params: [UInt32]) {
        if configuration.offersNikonGetEvent {
            // Kept for the host's next GetEvent; a host that never polls cannot make the queue grow without bound.
            state.withLock { s in
                s.nikonEvents.append((code, params.first ?? 0))
                if s.nikonEvents.count > Nikon.eventQueueLimit { s.nikonEvents.removeFirst(s.nikonEvents.count - Nikon.eventQueueLimit) }
            }
            return
        }
        let connection = state.withLock { s in s.eventConnection }
        var w = PTPWriter()
        w.u16(code)
        w.u32(0xFFFF_FFFF)
        for p in params { w.u32(p) }
        try? connection?.write(Self.packet(.event, w.bytes))
    }

}
