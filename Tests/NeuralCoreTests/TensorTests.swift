import Testing
import NeuralCore

@Test func tensorShapeAndCount() {
    let t = Tensor(shape: [2, 3, 4], data: (0..<24).map(Float.init))
    #expect(t.count == 24 && t.rank == 3)
    #expect(Tensor(zeros: [3, 0]).count == 0)
}
