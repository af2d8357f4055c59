/// Finds the largest batch of a model that fits, by compiling as few batch sizes as it can: the
/// fullest tile's bytes grow about linearly with the batch, so each next size is the one where the
/// line through the two nearest sizes tried reaches the tile's budget (a secant step, kept inside
/// the sizes known to fit and not to fit), and it ends with a size that fits next to one that does not.
public struct BatchSizeSearch {
    /// One compiled batch size: whether it fits and its fullest tile's bytes (or what it needed).
    public struct Attempt: Sendable, Hashable {
        /// Images per batch.
        public var batch: Int
        /// Whether every tile held what the compile placed on it.
        public var fits: Bool
        /// The fullest tile's bytes: what it holds, or what it would need.
        public var bytes: Int

        /// An attempt at `batch` that fits or not, its fullest tile holding or needing `bytes`.
        public init(batch: Int, fits: Bool, bytes: Int) {
            (self.batch, self.fits, self.bytes) = (batch, fits, bytes)
        }
    }

    /// Bytes a tile holds.
    public let budget: Int
    /// The sizes tried, in order.
    public private(set) var attempts: [Attempt] = []

    /// A search against a tile budget of `budget` bytes.
    public init(budget: Int) {
        self.budget = budget
    }

    /// The largest batch found to fit and the next one, which does not (nil when batch 1 does not
    /// fit), trying sizes with `attempt`, which compiles one and says whether it fits.
    public mutating func run(_ attempt: (Int) throws -> Attempt) rethrows -> (fits: Attempt, next: Attempt)? {
        var low = try tried(1, attempt)
        guard low.fits else { return nil }
        var high: Attempt?
        var previous: Attempt?
        while high.map({ $0.batch - low.batch > 1 }) ?? true {
            let guess = next(low: low, high: high, previous: previous)
            let result = try tried(guess, attempt)
            if result.fits {
                previous = low
                low = result
            } else {
                high = result
            }
        }
        return (low, high!)
    }

    private mutating func tried(_ batch: Int, _ attempt: (Int) throws -> Attempt) rethrows -> Attempt {
        let result = try attempt(batch)
        attempts.append(result)
        return result
    }

    /// The next size to try, strictly between `low` (fits) and `high` (does not, when known).
    private func next(low: Attempt, high: Attempt?, previous: Attempt?) -> Int {
        // The line through the nearest pair of sizes tried: low and the failing size, or with no
        // failure yet low and the fitting size before it (or batch 0 at no bytes).
        let other = high ?? previous ?? Attempt(batch: 0, fits: true, bytes: 0)
        let slope = Double(other.bytes - low.bytes) / Double(other.batch - low.batch)
        var guess = slope > 0 ? low.batch + Int((Double(budget - low.bytes) / slope).rounded(.down)) : 2 * low.batch
        // With no size known not to fit, reach past the line's estimate so that the next try
        // brackets the answer; with one, stay strictly inside.
        if let high {
            guess = min(max(guess, low.batch + 1), high.batch - 1)
        } else {
            guess = min(max(guess + 1, low.batch + 1), 4 * low.batch)
        }
        return guess
    }
}
