import Foundation
import Rig
import Testing

@Suite struct TriggerBoxProtocolTests {
    /// Each command as ESPER's instruction set spells it, newline included, and what the box answers.
    @Test func commandsAreEncodedAsTheBoxReadsThem() throws {
        let cases: [(TriggerBoxCommand, String, TriggerBoxReply.Kind)] = [
            (.fire, "S\n", .none),
            (.focus(true), "F1\n", .acknowledgement),
            (.focus(false), "F0\n", .acknowledgement),
            (.focusEnable([true, true, false, false, false, false]), "f110000\n", .acknowledgement),
            (.shutterEnable([false, true]), "s01\n", .acknowledgement),
            (.bulb(milliseconds: 200), "b200\n", .acknowledgement),
            (.bulb(milliseconds: 30_000), "b30000\n", .acknowledgement),
            (.readBulb, "B\n", .bulbTime),
            (.readFocusArray, "V\n", .focusArray),
            (.readShutterArray, "G\n", .shutterArray),
            (.readName, "N\n", .name),
            (.readMode, "M\n", .mode),
        ]
        for (command, line, reply) in cases {
            #expect(try command.encoded() == line)
            #expect(command.reply == reply, "\(command)")
        }
        #expect(throws: TriggerBoxProtocolError.self) { try TriggerBoxCommand.bulb(milliseconds: 30_001).encoded() }
        #expect(throws: TriggerBoxProtocolError.self) { try TriggerBoxCommand.bulb(milliseconds: -1).encoded() }
        #expect(throws: TriggerBoxProtocolError.self) { try TriggerBoxCommand.shutterEnable([]).encoded() }
        #expect(throws: TriggerBoxProtocolError.self) { try TriggerBoxCommand.focusEnable(Array(repeating: true, count: 7)).encoded() }
    }

    /// The documented replies, as the box prints them (with or without a carriage return).
    @Test func repliesAreRead() throws {
        #expect(try TriggerBoxReply(line: "tenFour") == .acknowledgement)
        #expect(try TriggerBoxReply(line: "tenFour\r") == .acknowledgement)
        #expect(try TriggerBoxReply(line: "BulbTime:[200]") == .bulbTime(milliseconds: 200))
        #expect(try TriggerBoxReply(line: "FocusArray:[EN EN DIS DIS DIS DIS ]")
                == .focusArray([true, true, false, false, false, false]))
        #expect(try TriggerBoxReply(line: "ShutterArray:[DIS DIS DIS EN EN EN ]")
                == .shutterArray([false, false, false, true, true, true]))
        #expect(try TriggerBoxReply(line: "BoxName:[Example Name]") == .name("Example Name"))
        #expect(try TriggerBoxReply(line: "Mode:[ 0 ]") == .mode(0))
    }

    /// Lines from a wrong baud rate, another device or a damaged cable are errors that quote the line printably.
    @Test func garbledLinesAreErrorsThatQuoteThem() throws {
        for line in ["tenfour", "BulbTime:[-5]", "BulbTime:[40000]", "BulbTime:[12", "FocusArray:[EN MAYBE]",
                     "FocusArray:[]", "ShutterArray:[EN EN EN EN EN EN EN ]", "Mode:[x]", "Other:[1]", "",
                     "\u{00}\u{FF}tenFour", String(repeating: "A", count: 500)] {
            let error = try #require(throws: TriggerBoxProtocolError.self, "\(line.debugDescription)") {
                try TriggerBoxReply(line: line)
            }
            #expect(!"\(error)".unicodeScalars.contains { $0.value < 0x20 }, "\(error)")
            #expect("\(error)".count < 200, "\(error)")
        }
    }

    /// Random lines built from the replies' pieces are read or refused, never a crash.
    @Test func randomLinesAreReadOrRefusedNeverCrash() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        let pieces = ["tenFour", "BulbTime:[", "FocusArray:[", "ShutterArray:[", "BoxName:[", "Mode:[", "EN ", "DIS ",
                      "]", "0", "9", " ", "\r", "\u{7F}", "\u{E9}", ":", "["]
        var accepted = 0
        for _ in 0..<20_000 {
            var line = ""
            for _ in 0..<(next() % 6) { line += pieces[Int(next() % UInt64(pieces.count))] }
            if (try? TriggerBoxReply(line: line)) != nil { accepted += 1 }
        }
        #expect(accepted > 0, "the generator reaches valid replies too")
    }
}
