import Testing
@_spi(Testing) import TesseraHost

/// Serialized: several tests read the process's resident size, which the others move.
@Suite(.serialized) struct NumaArenaTests {
    /// Checks the arena reads as zeros, then writes and reads back a pattern over every byte.
    private func checkZeroFilledAndWritable(_ arena: NumaArena) {
        let bytes = arena.base.bindMemory(to: UInt8.self, capacity: arena.byteCount)
        let buffer = UnsafeMutableBufferPointer(start: bytes, count: arena.byteCount)
        #expect(buffer.allSatisfy { $0 == 0 })
        for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        #expect(buffer.indices.allSatisfy { buffer[$0] == UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    }

    @Test func oneMebibyteOnNodeZero() throws {
        let arena = try NumaArena(bytes: 1 << 20, node: 0)
        #expect(arena.byteCount == 1 << 20)
        #expect(arena.node == 0)
        #expect(Int(bitPattern: arena.base) % 4096 == 0)
        checkZeroFilledAndWritable(arena)
    }

    @Test func anonymousMappingFallback() throws {
        let arena = try NumaArena(anonymousBytes: 1 << 20, node: 0)
        #expect(!arena.isNumaBacked)
        #expect(arena.node == 0)
        checkZeroFilledAndWritable(arena)
    }

    @Test func emptyArenaIsValid() throws {
        let arena = try NumaArena(bytes: 0, node: 0)
        #expect(arena.byteCount == 0)
    }

    @Test func missingNodeIsReported() {
        #expect {
            try NumaArena(bytes: 4096, node: 4096)
        } throws: { error in
            guard case let HostError.arenaAllocationFailed(bytes, node, _) = error else { return false }
            return bytes == 4096 && node == 4096
        }
    }

    @Test func pagesAreCommittedOnFirstTouch() throws {
        let size = 64 << 20
        let before = HostMemory.residentBytes()
        #expect(before > 0)
        let arena = try NumaArena(bytes: size, node: 0)
        let reserved = HostMemory.residentBytes()
        #expect(reserved - before < 16 << 20, "untouched arena committed \(reserved - before) bytes")
        for offset in stride(from: 0, to: size, by: 4096) {
            arena.base.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self)
        }
        let touched = HostMemory.residentBytes()
        #expect(touched - reserved >= 32 << 20, "touching 64 MiB grew RSS by only \(touched - reserved) bytes")
    }

    /// With large blocks on their own pages, a freed 16 MiB block leaves the resident set at once,
    /// even after a bigger freed block has raised glibc's own threshold past it (without the fixed
    /// threshold the block comes from the heap and, with a small block after it, stays resident).
    @Test func freedLargeBlocksLeaveTheResidentSet() {
        let raising = UnsafeMutablePointer<UInt8>.allocate(capacity: 24 << 20)
        raising.initialize(repeating: 1, count: 1)
        raising.deallocate()
        #expect(HostMemory.mapLargeBlocks())
        let size = 16 << 20
        let block = UnsafeMutablePointer<UInt8>.allocate(capacity: size), after = UnsafeMutablePointer<UInt8>.allocate(capacity: 1000)
        defer { after.deallocate() }
        block.initialize(repeating: 1, count: size)
        after.initialize(to: block[size - 1])
        let touched = HostMemory.residentBytes()
        block.deallocate()
        let freed = HostMemory.residentBytes()
        #expect(touched - freed >= size / 2, "freeing a touched 16 MiB block took \(touched - freed) bytes off the resident set")
    }

    /// The peak covers a touched arena until it is reset after the arena is gone.
    @Test func peakStartsOverAfterReset() throws {
        let size = 128 << 20
        do {
            let arena = try NumaArena(bytes: size, node: 0)
            for offset in stride(from: 0, to: size, by: 4096) { arena.base.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
            // The resident size first: the peak read after it covers it, whatever other threads
            // allocate in between (a peak read first can trail a resident size read later). The
            // kernel reads both from per-CPU page counters approximately, each possibly off by a few
            // dozen pages (seen: a peak 20 KiB under the resident size read just before it), so the
            // peak is held to the resident size less 1 MiB.
            let resident = HostMemory.residentBytes()
            #expect(HostMemory.peakResidentBytes() >= resident - (1 << 20))
            #expect(resident >= size, "the touched 128 MiB arena is resident")
        }
        let peakWithArena = HostMemory.peakResidentBytes()
        #expect(peakWithArena >= size)
        #expect(HostMemory.resetPeak())
        let peakAfter = HostMemory.peakResidentBytes()
        #expect(peakAfter < peakWithArena - size / 2, "peak \(peakWithArena) → \(peakAfter) bytes after the 128 MiB arena was freed")
    }
}

