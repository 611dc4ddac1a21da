/// A rectangle in pixels of the source camera's frame: the part of it that both aligned images cover. The aligned,
/// exported images are exactly this rectangle.
public struct CropRect: Sendable, Hashable, Codable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var area: Int { width * height }
}
