import Foundation
import PairVocabulary
import Rig
import Testing
import VirtualCamera

/// "Pairs that fit": free bytes on the card over the size of the latest shot, once there is one; the camera's
/// own estimate before.
@Suite struct CardSpaceTests {
    @Test func theFigureComesFromTheLatestShotOnceThereIsOne() {
        // Before a shot: 1000 images over 2 files per shot.
        let before = CardSpace.shotsThatFit(freeBytes: 1_000_000, freeImages: 1000, filesPerShot: 2, bytesPerShot: nil)
        #expect(before?.shots == 500 && before?.basis == .cameraEstimate)
        // After one: 1,000,000 bytes over 30,001 bytes a shot is 33 (rounded down), whatever the estimate says.
        let after = CardSpace.shotsThatFit(freeBytes: 1_000_000, freeImages: 1000, filesPerShot: 2, bytesPerShot: 30_001)
        #expect(after?.shots == 33 && after?.basis == .fileSize)
        // No free bytes from the camera: its estimate, even after a shot.
        #expect(CardSpace.shotsThatFit(freeBytes: nil, freeImages: 9, filesPerShot: 1, bytesPerShot: 10)?.basis == .cameraEstimate)
        #expect(CardSpace.shotsThatFit(freeBytes: nil, freeImages: nil, filesPerShot: 1, bytesPerShot: 10) == nil)
    }

    @Test func fewPairsLeftIsSaidOnce() {
        var watch = LowSpaceWatch()
        #expect(watch.check(PairsThatFit(pairs: 50, basis: .fileSize, role: .deep)) == nil)
        let warning = watch.check(PairsThatFit(pairs: 49, basis: .fileSize, role: .deep))
        #expect(warning == "only 49 more pair(s) fit on the cards (deep camera, at the current file size)")
        #expect(watch.check(PairsThatFit(pairs: 48, basis: .fileSize, role: .deep)) == nil)
        var already = LowSpaceWatch(warned: true)
        #expect(already.check(PairsThatFit(pairs: 3, basis: .cameraEstimate, role: .shallow)) == nil)
    }

    /// Two bodies recording JPEGs onto cards that keep them: the card's free bytes drop by each shot's bytes,
    /// and the rig's figure is free bytes over the latest shot's bytes - far from the cameras' estimates, which
    /// reckon a frame at the size of a RAW. (The capture target is left alone: libgphoto2 keeps it in one
    /// process-wide setting, saved in ~/.gphoto/settings, that a test must not change.)
    @Test func freeBytesDropAsFilesAreWrittenAndTheFigureFollowsTheFileSize() throws {
        let fixture = try VirtualRigFixture(format: .jpeg)
        defer { fixture.tearDown() }
        fixture.file.keepOnCamera = true
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }

        let first = try rig.preflight(apply: false)
        #expect(first.cameras.allSatisfy { !$0.capturesToHost && $0.bytesPerShot == nil }, "\(first.cameras)")
        #expect(first.pairsThatFitBasis == .cameraEstimate)
        #expect(first.pairsThatFit == first.cameras.map { $0.freeImages ?? 0 }.min() && first.pairsThatFit ?? 0 > 1000)

        var previous = first
        for n in 1...2 {
            let pair = try rig.capturePair(index: n, into: fixture.output)
            let report = try rig.preflight(apply: false)
            #expect(report.pairsThatFitBasis == .fileSize)
            var figures: [(CameraRole, UInt64)] = []
            for (role, file) in [(CameraRole.shallow, pair.shallow), (.deep, pair.deep)] {
                let c = try #require(report.cameras.first { $0.role == role })
                let was = try #require(previous.cameras.first { $0.role == role })
                let bytes = UInt64(try Data(contentsOf: fixture.output.appendingPathComponent(file.fileName)).count)
                #expect(c.bytesPerShot == bytes, "\(role): \(String(describing: c.bytesPerShot)) for \(bytes)")
                // libgphoto2 reports free space in KiB, so the drop is the shot's bytes within 1 KiB.
                let drop = Int64(try #require(was.freeBytes)) - Int64(try #require(c.freeBytes))
                #expect(abs(drop - Int64(bytes)) < 1024, "\(role): free space dropped by \(drop) for a \(bytes)-byte shot")
                let expected = try #require(c.freeBytes) / bytes
                #expect(c.shotsThatFit == expected && c.fitBasis == .fileSize)
                // A JPEG weighs a fraction of the RAW frame the camera's estimate assumes.
                #expect(expected > 3 * (c.freeImages ?? 0), "\(role): \(expected) against the estimate \(c.freeImages ?? 0)")
                figures.append((role, expected))
            }
            let smaller = figures.min { $0.1 < $1.1 }!
            #expect(report.pairsThatFit == smaller.1 && report.fit?.role == smaller.0)
            // The figure after a pair, read from the cards alone, is the pre-flight's.
            #expect(try rig.pairsThatFit(toHost: []) == report.fit)
            previous = report
        }
    }

    /// A Canon capturing RAW+JPEG to the host (its default) does not limit the rig, and its shot's bytes are
    /// both files'.
    @Test func aCameraCapturingToTheHostIsLeftOut() throws {
        let fixture = try VirtualRigFixture(shallowVendor: .canon, deepVendor: .generic)
        defer { fixture.tearDown() }
        fixture.file.cameras[0].settings.imageFormat = .rawPlusJPEG
        let rig = try Rig(file: fixture.file, library: try GPhotoLibrary())
        defer { rig.close() }
        try rig.applySettings()
        let pair = try rig.capturePair(index: 1, into: fixture.output)
        let report = try rig.preflight(apply: false)
        #expect(report.cameras[0].capturesToHost && report.cameras[0].shotsThatFit == nil, "\(report.cameras[0])")
        let names = [pair.shallow.fileName] + (pair.shallow.companions ?? [])
        #expect(names.count == 2)
        let bytes = try names.reduce(UInt64(0)) { $0 + UInt64(try Data(contentsOf: fixture.output.appendingPathComponent($1)).count) }
        #expect(report.cameras[0].bytesPerShot == bytes)
        #expect(report.fit?.role == .deep && report.pairsThatFitBasis == .fileSize)
        #expect(try rig.pairsThatFit(toHost: report.rolesCapturingToHost) == report.fit)
    }
}
