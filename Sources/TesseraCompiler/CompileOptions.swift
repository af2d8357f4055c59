/// Knobs of the compiler's memory model; the defaults are documented in docs/cost-model.md.
public struct CompileOptions: Sendable, Hashable {
    /// Stack bytes of each worker context.
    public var workerStackBytes = 256
    /// Stack bytes of the supervisor context.
    public var supervisorStackBytes = 512
    /// Control-code bytes every tile spends per program step (sync and branch instructions).
    public var controlBytesPerStep = 8
    /// Extra control-code bytes a tile spends per step in which it runs vertices (the compute-set call).
    public var controlBytesPerComputeStep = 16
    /// Exchange-code bytes per exchange phase a tile takes part in.
    public var exchangeBytesPerPhase = 8
    /// Exchange-code bytes per copy a tile sends or receives.
    public var exchangeBytesPerCopy = 4
    /// Bytes of a field descriptor (a pointer).
    public var fieldPointerBytes = 4
    /// Extra bytes of a vector field's descriptor (its element count).
    public var vectorFieldCountBytes = 4
    /// Alignment of every placed block, in bytes.
    public var alignment = 8
    /// Drop the graph's vertex connection tables once the compiler no longer needs them (before
    /// placement), for a caller that compiles the graph once and then lets it go (a model
    /// session): the largest part of a big graph is then not held beside the executable being
    /// built. The graph cannot be compiled again.
    package var releasesConnections = false

    /// The documented defaults.
    public init() {}
}
