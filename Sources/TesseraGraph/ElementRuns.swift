/// A strided run of elements of one variable or constant: `start, start + stride, …` (`count` of them).
///
/// Every tensor view is a list of runs in the view's row-major order. Contiguous views are one run;
/// a transpose is one run per row with the column stride; a broadcast uses stride 0. The fields
/// are held in 32 bits, as a large graph has millions of runs: a variable has fewer than 2³¹
/// elements (no chip holds more) and a view fewer than 2³¹ positions.
package struct ElementRun: Hashable, Sendable {
    private var storedData: Int32
    private var storedStart: Int32
    private var storedCount: Int32
    private var storedStride: Int32

    /// Index of the variable or constant in its graph.
    package var data: Int {
        get { Int(storedData) }
        set { storedData = Int32(newValue) }
    }
    /// First flat element index in the data.
    package var start: Int {
        get { Int(storedStart) }
        set { storedStart = Int32(newValue) }
    }
    /// Number of elements.
    package var count: Int {
        get { Int(storedCount) }
        set { storedCount = Int32(newValue) }
    }
    /// Distance between consecutive elements, in elements (0 repeats one element).
    package var stride: Int {
        get { Int(storedStride) }
        set { storedStride = Int32(newValue) }
    }

    package init(data: Int, start: Int, count: Int, stride: Int = 1) {
        storedData = Int32(data)
        storedStart = Int32(start)
        storedCount = Int32(count)
        storedStride = Int32(count == 1 ? 1 : stride)
    }

    /// Flat element index of the run's `i`-th element.
    @inline(__always) package func element(_ i: Int) -> Int { start + i * stride }

    /// The smallest and one past the largest element index the run touches.
    package var span: Range<Int> {
        let last = element(count - 1)
        return min(start, last)..<(max(start, last) + 1)
    }
}

/// Builds a run list, merging each appended run into the previous one where the elements continue it.
///
/// The last run is kept apart from the finished ones until a run that does not continue it
/// arrives, so merging (what most appends do) touches no array.
package struct ElementRunBuilder {
    private var finished: [ElementRun] = []
    /// The last run, as full-width fields; `lastCount` is 0 when there is none.
    private var lastData = 0, lastStart = 0, lastCount = 0, lastStride = 1

    package init() {}

    @inline(__always)
    package mutating func append(_ run: ElementRun) {
        let count = run.count
        guard count > 0 else { return }
        let start = run.start, stride = run.stride
        if lastCount > 0 && lastData == run.data {
            if lastCount == 1 && (count == 1 || start - lastStart == stride) {
                lastStride = start - lastStart
                lastCount += count
                return
            }
            if start == lastStart + lastCount * lastStride && (count == 1 || stride == lastStride) {
                lastCount += count
                return
            }
        }
        finishLast()
        (lastData, lastStart, lastCount, lastStride) = (run.data, start, count, stride)
    }

    private mutating func finishLast() {
        guard lastCount > 0 else { return }
        finished.append(ElementRun(data: lastData, start: lastStart, count: lastCount, stride: lastStride))
    }

    /// Appends the runs appended so far, merged, to `runs`, and empties the builder (keeping its storage).
    package mutating func finish(appendingTo runs: inout [ElementRun]) {
        finish { runs.append(contentsOf: $0) }
    }

    /// Appends the runs appended so far, merged, to the chunked `runs`, and empties the builder.
    package mutating func finish(appendingTo runs: inout ChunkedArray<ElementRun>) {
        finish { runs.append(contentsOf: $0) }
    }

    private mutating func finish(_ take: ([ElementRun]) -> Void) {
        finishLast()
        lastCount = 0
        take(finished)
        finished.removeAll(keepingCapacity: true)
    }

    /// The runs appended, merged (the builder is left empty).
    package mutating func build() -> ElementRunList {
        finishLast()
        lastCount = 0
        defer { finished = [] }
        return ElementRunList(finished)
    }
}

/// An immutable list of runs with the cumulative position where each ends, so a position of the
/// view is found by binary search.
package final class ElementRunList: Sendable {
    package let runs: [ElementRun]
    /// `ends[i]` is one past the last view position covered by `runs[i]`; empty for a list of at
    /// most one run (most views), whose end is `count`.
    private let ends: [Int]
    /// Number of view positions.
    package let count: Int
    /// The one variable (or constant) every run reads, or nil when they read several (or none).
    package let onlyData: Int?

    package init(_ runs: [ElementRun]) {
        self.runs = runs
        let first = runs.first?.data
        onlyData = runs.allSatisfy { $0.data == first } ? first : nil
        if runs.count > 1 {
            var total = 0
            ends = runs.map { total += $0.count; return total }
            count = total
        } else {
            ends = []
            count = runs.first?.count ?? 0
        }
    }

    /// One past the last view position covered by run `index`.
    private func end(of index: Int) -> Int { ends.isEmpty ? count : ends[index] }

    /// Index of the run holding view position `position` (of a list of several runs); the runs
    /// `hint.index`, the one after it and the one `hint.step` after it are tried first, as a walk
    /// through the view in increasing order or with a regular stride finds them, and `hint` is
    /// left at the run found.
    package func runIndex(containing position: Int, hint: inout SearchHint) -> Int {
        let last = hint.index
        func holds(_ index: Int) -> Bool {
            index >= 0 && index < runs.count && position < ends[index] && (index == 0 || ends[index - 1] <= position)
        }
        if holds(last) { return last }
        var found = holds(last + 1) ? last + 1 : holds(last + hint.step) ? last + hint.step : -1
        if found < 0 {
            var low = 0, high = runs.count - 1
            while low < high {
                let mid = (low + high) / 2
                if ends[mid] > position { high = mid } else { low = mid + 1 }
            }
            found = low
        }
        hint.step = found - last
        hint.index = found
        return found
    }

    /// The variable and element that view positions `range` start at when they are consecutive
    /// elements of one variable (inside one run), else nil; `hint` is the run search's hint
    /// (``runIndex(containing:hint:)``).
    package func consecutiveElements(_ range: Range<Int>, hint: inout SearchHint) -> (data: Int, start: Int)? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= count else { return nil }
        let index = runs.count == 1 ? 0 : runIndex(containing: range.lowerBound, hint: &hint)
        let run = runs[index], runBegin = index == 0 ? 0 : ends[index - 1]
        guard range.upperBound <= end(of: index), run.stride == 1 || range.count == 1 else { return nil }
        return (run.data, run.element(range.lowerBound - runBegin))
    }

    /// Appends the elements at view positions `first, first + stride, …` (`count` of them).
    package func appendElements(first: Int, stride: Int, count: Int, to builder: inout ElementRunBuilder) {
        var hint = SearchHint()
        appendElements(first: first, stride: stride, count: count, to: &builder, hint: &hint)
    }

    /// ``appendElements(first:stride:count:to:)`` with the run search's hint
    /// (``runIndex(containing:hint:)``), for a caller walking the view in order.
    package func appendElements(first: Int, stride: Int, count: Int, to builder: inout ElementRunBuilder, hint: inout SearchHint) {
        if runs.count == 1 {
            guard count > 0 else { return }
            let run = runs[0]
            builder.append(ElementRun(data: run.data, start: run.element(first), count: count, stride: stride * run.stride))
            return
        }
        var position = first
        var remaining = count
        while remaining > 0 {
            let index = runIndex(containing: position, hint: &hint)
            let run = runs[index]
            let runBegin = index == 0 ? 0 : ends[index - 1]
            let taken = progressionCount(from: position, stride: stride, limit: remaining, within: runBegin..<end(of: index))
            builder.append(ElementRun(
                data: run.data, start: run.element(position - runBegin), count: taken, stride: stride * run.stride))
            position += taken * stride
            remaining -= taken
        }
    }

    /// The elements of positions `ranges`, one range after another (a vertex field's regions).
    package func appendElements(_ ranges: ArraySlice<Range<Int>>, to builder: inout ElementRunBuilder, hint: inout SearchHint) {
        if runs.count == 1 {
            let run = runs[0]
            for range in ranges where !range.isEmpty {
                builder.append(ElementRun(data: run.data, start: run.element(range.lowerBound), count: range.count, stride: run.stride))
            }
            return
        }
        for range in ranges { appendElements(first: range.lowerBound, stride: 1, count: range.count, to: &builder, hint: &hint) }
    }

    /// The elements of the affine view `position(i) = offset + Σ i[d] · strides[d]` over `shape`.
    package func affineView(shape: [Int], offset: Int, strides: [Int]) -> ElementRunList {
        var builder = ElementRunBuilder()
        appendAffineView(shape: shape, offset: offset, strides: strides, to: &builder)
        return builder.build()
    }

    /// Appends the elements of the affine view `position(i) = offset + Σ i[d] · strides[d]` over `shape`.
    package func appendAffineView(shape: [Int], offset: Int, strides: [Int], to builder: inout ElementRunBuilder) {
        guard !shape.contains(0) else { return }
        guard !shape.isEmpty else {
            appendElements(first: offset, stride: 1, count: 1, to: &builder)
            return
        }
        if runs.count == 1 { return appendSingleRunView(shape: shape, offset: offset, strides: strides, to: &builder) }
        // Positions that continue the row before them are walked with it (a box of whole rows of
        // a `[C, H, W]` view is one walk per channel), each walk an append.
        let dims = Self.walkDimensions(shape: shape, strides: strides)
        let (walk, walkStride) = dims[0]
        var index = [Int](repeating: 0, count: dims.count)
        var start = offset, hint = SearchHint()
        while true {
            appendElements(first: start, stride: walkStride, count: walk, to: &builder, hint: &hint)
            var dim = 1
            while dim < dims.count {
                index[dim] += 1
                start += dims[dim].stride
                if index[dim] < dims[dim].size { break }
                start -= dims[dim].stride * dims[dim].size
                index[dim] = 0
                dim += 1
            }
            if dim == dims.count { break }
        }
    }

    /// The dimensions of an affine view innermost first, without those of one position, each
    /// joined with the one inside it when it continues it (its stride is the inner one's extent).
    private static func walkDimensions(shape: [Int], strides: [Int]) -> [(size: Int, stride: Int)] {
        var dims: [(size: Int, stride: Int)] = []
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if let inner = dims.last, stride == inner.stride * inner.size {
                dims[dims.count - 1].size *= size
            } else {
                dims.append((size, stride))
            }
        }
        return dims.isEmpty ? [(1, 1)] : dims
    }

    /// ``appendAffineView(shape:offset:strides:to:)`` of a list of one run, whose positions map to elements
    /// affinely: dimensions of one element are skipped and dimensions that continue the one
    /// inside them are walked as one, so a 1×1 convolution's weights `[O, C, 1, 1]` take one
    /// append per output channel rather than per element. Each walk appends its first row (of
    /// `shape.last` positions) on its own and then the rest, which the builder merges exactly as
    /// it merges the rows appended one by one (a row after the first continues the one before it).
    private func appendSingleRunView(shape: [Int], offset: Int, strides: [Int], to builder: inout ElementRunBuilder) {
        let row = shape.last!
        let dims = Self.walkDimensions(shape: shape, strides: strides)
        let (walk, walkStride) = dims[0]
        var index = [Int](repeating: 0, count: dims.count)
        var start = offset
        while true {
            appendElements(first: start, stride: walkStride, count: row, to: &builder)
            if walk > row { appendElements(first: start + row * walkStride, stride: walkStride, count: walk - row, to: &builder) }
            var dim = 1
            while dim < dims.count {
                index[dim] += 1
                start += dims[dim].stride
                if index[dim] < dims[dim].size { break }
                start -= dims[dim].stride * dims[dim].size
                index[dim] = 0
                dim += 1
            }
            if dim == dims.count { break }
        }
    }

    /// The elements at view positions `range`, in order.
    package func subrange(_ range: Range<Int>) -> ElementRunList {
        var builder = ElementRunBuilder()
        appendElements(first: range.lowerBound, stride: 1, count: range.count, to: &builder)
        return builder.build()
    }
}

/// How many of `first, first + stride, …` (at most `limit`) lie in `range`, given that `first` does.
@inline(__always)
package func progressionCount(from first: Int, stride: Int, limit: Int, within range: Range<Int>) -> Int {
    if stride > 0 { return min(limit, (range.upperBound - 1 - first) / stride + 1) }
    if stride == 0 { return limit }
    return min(limit, (first - range.lowerBound) / -stride + 1)
}
