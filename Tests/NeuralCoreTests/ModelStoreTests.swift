import TestSupport
import Foundation
import NeuralCore
import Testing

@Test func modelStoreLaysOutAndListsModels() throws {
    let home = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: home) }
    let store = ModelStore(home: home)
    #expect(store.directory == home.appendingPathComponent("models", isDirectory: true))
    #expect(try store.installedModels() == [])
    #expect(store.url(forModel: "ifan").lastPathComponent == "ifan.safetensors")
    #expect(store.url(forModel: "ifan").deletingLastPathComponent().standardizedFileURL == store.directory.standardizedFileURL)
    try store.createDirectory()
    try SafeTensors.write(["w": Tensor(shape: [1], data: [1])], metadata: [:], to: store.url(forModel: "lpips-alex"))
    try SafeTensors.write(["w": Tensor(shape: [1], data: [2])], metadata: [:], to: try store.validatedURL(forModel: "ifan"))
    try Data().write(to: store.directory.appendingPathComponent("notes.txt"))
    #expect(try store.installedModels() == ["ifan", "lpips-alex"])
}

@Test func modelNamesCannotLeaveTheDirectory() throws {
    let store = ModelStore(home: FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-store-test"))
    for name in ["../evil", "a/b", "..", ".", "", "x\0y", ".hidden", "a\\b"] {
        #expect(throws: WeightFileError.self, "\(name)") { try store.validatedURL(forModel: name) }
        // The non-throwing form never escapes either.
        let url = store.url(forModel: name)
        #expect(url.deletingLastPathComponent().path == store.directory.path, "\(name) -> \(url.path)")
        #expect(!url.lastPathComponent.contains("/"))
    }
    #expect(try store.validatedURL(forModel: "lpips-alex").lastPathComponent == "lpips-alex.safetensors")
}
