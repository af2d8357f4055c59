import Synchronization

/// The counters from which workers claim chunks of a phase's busy tiles, one per parity of the
/// phase: phases are separated by barriers, and while the workers claim from one counter, worker 0
/// sets the other back to zero for the next phase (every worker has left the phase before, and the
/// next barrier publishes the reset).
final class TileClaims: Sendable {
    private let even = Atomic<Int>(0)
    private let odd = Atomic<Int>(0)

    /// The next unclaimed chunk of the phase numbered `phase`.
    func claim(phase: Int) -> Int {
        if phase & 1 == 0 { return even.wrappingAdd(1, ordering: .relaxed).oldValue }
        return odd.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Sets the counter of the phases of `phase`'s parity to zero.
    func reset(phase: Int) {
        if phase & 1 == 0 { even.store(0, ordering: .relaxed) } else { odd.store(0, ordering: .relaxed) }
    }
}

/// One worker's tiles in one phase, as runs of whole tiles in tile order: with
/// ``Engine/balancesSteps`` the chunks of the phase's busy tiles it claims (each chunk is run by
/// the one worker that claims it, so results do not depend on who does), else its own block once.
struct PhaseShares: IteratorProtocol {
    private let busy: [Int32]
    private let claims: TileClaims?
    private let phase: Int
    private let chunkSize: Int
    private let chunks: Int
    private let tiles: Int
    private var block: Range<Int>?

    /// Chunks of about a sixteenth of each worker's part of the phase: few enough claims to cost
    /// nothing, small enough that a worker held up by its host core leaves little for the other to wait on.
    static let chunksPerWorker = 16

    /// The shares of `busy` (sorted tile indices of the phase numbered `phase`) claimed through
    /// `claims` by one of `workers` workers of a replica of `tiles` tiles; `block` alone without `claims`.
    init(busy: [Int32], claims: TileClaims?, phase: Int, workers: Int, tiles: Int, block: Range<Int>) {
        self.busy = busy
        self.claims = busy.isEmpty ? nil : claims
        self.phase = phase
        self.tiles = tiles
        chunkSize = max(1, busy.count / (workers * Self.chunksPerWorker))
        chunks = (busy.count + chunkSize - 1) / chunkSize
        self.block = self.claims == nil ? block : nil
    }

    mutating func next() -> Range<Int>? {
        guard let claims else {
            defer { block = nil }
            return block
        }
        let chunk = claims.claim(phase: phase)
        guard chunk < chunks else { return nil }
        let lower = chunk == 0 ? 0 : Int(busy[chunk * chunkSize])
        let upper = chunk == chunks - 1 ? tiles : Int(busy[(chunk + 1) * chunkSize])
        return lower..<upper
    }
}
