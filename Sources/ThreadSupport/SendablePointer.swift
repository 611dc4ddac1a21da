/// A raw pointer shared between threads where something the compiler cannot see orders the accesses: the workers of
/// `DispatchQueue.concurrentPerform`, each reading shared input and writing only its own disjoint part of an output
/// (which outlives them, since `concurrentPerform` returns after all of them), or a C handle kept in a
/// `LockedValue` and used only under its lock.
///
/// The one such wrapper in the package (kernels, metrics, registration, the camera handle). Read-only buffers are
/// wrapped through `init(_: UnsafePointer)` and never written.
@frozen
public struct SendablePointer<Pointee>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Pointee>

    @inlinable
    public init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }

    /// A buffer the workers only read.
    @inlinable
    public init(_ pointer: UnsafePointer<Pointee>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}
