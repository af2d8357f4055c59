import Testing
import TesseraModels

/// The search `tessera fit` runs: the largest batch that fits, next to one that does not, in few compiles.
@Suite struct BatchSizeSearchTests {
    /// A model whose fullest tile holds `fixed + perImage · batch` bytes, with `wobble(batch)` added.
    private func attempt(fixed: Int, perImage: Int, budget: Int, wobble: @escaping (Int) -> Int = { _ in 0 })
        -> (Int) -> BatchSizeSearch.Attempt {
        { batch in
            let bytes = fixed + perImage * batch + wobble(batch)
            return BatchSizeSearch.Attempt(batch: batch, fits: bytes <= budget, bytes: bytes)
        }
    }

    /// The sizes that doubling from 1 and then bisecting compiles for the same model (what `tessera fit` did before).
    private func bisectionAttempts(fixed: Int, perImage: Int, budget: Int) -> Int {
        func fits(_ batch: Int) -> Bool { fixed + perImage * batch <= budget }
        var attempts = 1, low = 0, high = 1
        while fits(high) {
            (low, high) = (high, 2 * high)
            attempts += 1
        }
        while high - low > 1 {
            let middle = (low + high) / 2
            if fits(middle) { low = middle } else { high = middle }
            attempts += 1
        }
        return attempts
    }

    @Test func aLinearModelIsFoundInFewerCompilesThanByBisection() throws {
        for (fixed, perImage) in [(170_000, 11_000), (20_000, 150_000), (600_000, 1_000), (1_000, 7)] {
            var search = BatchSizeSearch(budget: 638_976)
            let result = search.run(attempt(fixed: fixed, perImage: perImage, budget: 638_976))
            let found = try #require(result)
            let expected = (638_976 - fixed) / perImage
            #expect(found.fits.batch == expected && found.fits.fits, "\(fixed) + \(perImage)·b")
            #expect(found.next.batch == expected + 1 && !found.next.fits, "\(fixed) + \(perImage)·b")
            #expect(search.attempts.count < bisectionAttempts(fixed: fixed, perImage: perImage, budget: 638_976),
                    "\(fixed) + \(perImage)·b: \(search.attempts.map(\.batch))")
        }
    }

    @Test func aModelWhoseMemoryWobblesEndsAtAFitNextToAFailure() throws {
        // Plans change with the batch: the fullest tile jumps up and down by up to 40 KB.
        let wobble = { (batch: Int) in (batch * 7_919 % 13) * 3_000 }
        var search = BatchSizeSearch(budget: 638_976)
        let result = search.run(attempt(fixed: 150_000, perImage: 12_000, budget: 638_976, wobble: wobble))
        let found = try #require(result)
        #expect(found.fits.fits && !found.next.fits && found.next.batch == found.fits.batch + 1)
        #expect(search.attempts.contains(found.fits) && search.attempts.contains(found.next))
    }

    @Test func aModelThatDoesNotFitAtBatchOneIsNil() {
        var search = BatchSizeSearch(budget: 1_000)
        let result = search.run(attempt(fixed: 900, perImage: 200, budget: 1_000))
        #expect(result == nil)
        #expect(search.attempts.map(\.batch) == [1])
    }
}
