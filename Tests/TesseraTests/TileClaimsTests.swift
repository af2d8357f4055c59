import Testing
@testable import TesseraRuntime

/// How workers share a phase's busy tiles: every tile of the replica in exactly one claimed chunk,
/// whatever order the workers claim in, and a fresh set of chunks in the next phase.
@Suite struct TileClaimsTests {
    /// Ranges the workers' iterators hand out, claiming in turn: worker `order[i % order.count]` next.
    private func claimedRanges(busy: [Int32], workers: Int, tiles: Int, phase: Int, claims: TileClaims, order: [Int]) -> [[Range<Int>]] {
        var shares = (0..<workers).map { _ in
            PhaseShares(busy: busy, claims: claims, phase: phase, workers: workers, tiles: tiles, block: 0..<0)
        }
        var ranges = [[Range<Int>]](repeating: [], count: workers), done = Set<Int>(), turn = 0
        while done.count < workers {
            let worker = order[turn % order.count]
            turn += 1
            guard !done.contains(worker) else { continue }
            if let range = shares[worker].next() { ranges[worker].append(range) } else { done.insert(worker) }
        }
        return ranges
    }

    @Test func claimedChunksCoverEveryTileOnce() {
        let busy = (0..<1_344).map { Int32($0 + $0 / 12) }, claims = TileClaims()
        let ranges = claimedRanges(busy: busy, workers: 2, tiles: 1_472, phase: 1, claims: claims, order: [0, 0, 0, 1])
        let all = (ranges[0] + ranges[1]).sorted { $0.lowerBound < $1.lowerBound }
        #expect(all.first?.lowerBound == 0 && all.last?.upperBound == 1_472)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        // 1,344 busy tiles over 2 workers: chunks of 42, 32 of them, three claimed by worker 0 for each of worker 1's.
        #expect(all.count == 32 && ranges[0].count == 24)
        #expect(all.allSatisfy { range in busy.filter { range.contains(Int($0)) }.count == 42 })
    }

    @Test func theNextPhaseOfTheSameParityStartsAgainAfterAReset() {
        let busy = (0..<64).map { Int32($0) }, claims = TileClaims()
        let first = claimedRanges(busy: busy, workers: 2, tiles: 64, phase: 1, claims: claims, order: [0, 1])
        let other = claimedRanges(busy: busy, workers: 2, tiles: 64, phase: 2, claims: claims, order: [1, 0])
        let stale = claimedRanges(busy: busy, workers: 2, tiles: 64, phase: 3, claims: claims, order: [0, 1])
        claims.reset(phase: 3)
        let third = claimedRanges(busy: busy, workers: 2, tiles: 64, phase: 3, claims: claims, order: [0, 1])
        #expect(first.joined().count == 32 && other.joined().count == 32)
        #expect(stale.joined().isEmpty && third == first)
    }

    @Test func withoutClaimsAWorkerRunsItsOwnBlockOnce() {
        var shares = PhaseShares(busy: [3, 4], claims: nil, phase: 1, workers: 2, tiles: 8, block: 4..<8)
        #expect(shares.next() == 4..<8)
        #expect(shares.next() == nil)
    }
}
