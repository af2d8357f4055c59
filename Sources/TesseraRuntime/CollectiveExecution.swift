import TesseraCompiler
import TesseraGraph

/// The tile memories of every replica an engine hosts: tile `t` of replica `r` starts at
/// `tileBase[r · tilesPerReplica + t]`.
package struct ReplicaMemory {
    let tileBase: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let tilesPerReplica: Int
    let replicas: Int
}

/// Carries a collective between the replicas' memories.
///
/// An engine's replicas all live in its process by default (``InProcessTransport``, which reads and
/// writes every replica's tile memory directly). A transport for replicas spread over processes or
/// machines (over MPI, say) implements the same operation for the replicas it hosts, with the same
/// result bytes: values combined in replica order.
package protocol ReplicaTransport: Sendable {
    /// Runs worker `worker`'s share (of `workers`) of `plan`.
    func run(_ plan: CollectivePlan, on memory: ReplicaMemory, worker: Int, of workers: Int)
}

/// The transport for replicas in one process: direct reads and writes of their tile memories.
package struct InProcessTransport: ReplicaTransport {
    package init() {}

    package func run(_ plan: CollectivePlan, on memory: ReplicaMemory, worker: Int, of workers: Int) {
        CollectiveExecution(memory: memory, plan: plan).run(worker: worker, of: workers)
    }
}

/// Runs a collective on the replicas' tile memories. Worker `w` of `W` takes a contiguous share of
/// the pieces it writes, so every element is written by one worker; values are combined in replica
/// order, so results are the same for any number of threads.
struct CollectiveExecution {
    let memory: ReplicaMemory
    let plan: CollectivePlan

    func run(worker: Int, of workers: Int) {
        switch plan.operands[plan.kind == .allReduce ? 0 : 1].elementType {
        case .float32: run(Float.self, worker: worker, of: workers)
        case .float16: run(Float16.self, worker: worker, of: workers)
        case .int32: run(Int32.self, worker: worker, of: workers)
        case .uint32: run(UInt32.self, worker: worker, of: workers)
        case .uint8: run(UInt8.self, worker: worker, of: workers)
        }
    }

    private func run<T: CollectiveScalar>(_ type: T.Type, worker: Int, of workers: Int) {
        if plan.kind == .allReduce {
            let counts = plan.operands.map { $0.pieces.count }
            let total = counts.reduce(0, +)
            var flat = 0
            for (index, operand) in plan.operands.enumerated() {
                let lower = max(total * worker / workers, flat), upper = min(total * (worker + 1) / workers, flat + counts[index])
                if lower < upper { allReduce(operand, pieces: (lower - flat)..<(upper - flat)) }
                flat += counts[index]
            }
            return
        }
        let output = plan.operands[1]
        let share = (output.pieces.count * worker / workers)..<(output.pieces.count * (worker + 1) / workers)
        if plan.kind == .reduceScatter { reduceScatter(T.self, pieces: share) } else { allGather(T.self, pieces: share) }
    }

    private var groups: Range<Int> { 0..<(memory.replicas / plan.groupSize) }

    private func address(_ operand: CollectiveOperand, replica: Int, element: Int) -> UnsafeMutableRawPointer {
        var low = 0, high = operand.pieces.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if operand.pieceStart[mid] <= element { low = mid } else { high = mid - 1 }
        }
        let piece = operand.pieces[low]
        return memory.tileBase[replica * memory.tilesPerReplica + piece.tile] + piece.offset
            + (element - operand.pieceStart[low]) * piece.stride
    }

    private func pieceAddress(_ operand: CollectiveOperand, _ index: Int, replica: Int, _ i: Int) -> UnsafeMutableRawPointer {
        let piece = operand.pieces[index]
        return memory.tileBase[replica * memory.tilesPerReplica + piece.tile] + piece.offset + i * piece.stride
    }

    private func allReduce(_ operand: CollectiveOperand, pieces: Range<Int>) {
        switch operand.elementType {
        case .float32: allReduce(Float.self, operand, pieces)
        case .float16: allReduce(Float16.self, operand, pieces)
        case .int32: allReduce(Int32.self, operand, pieces)
        case .uint32: allReduce(UInt32.self, operand, pieces)
        case .uint8: allReduce(UInt8.self, operand, pieces)
        }
    }

    private func allReduce<T: CollectiveScalar>(_ type: T.Type, _ operand: CollectiveOperand, _ pieces: Range<Int>) {
        let size = plan.groupSize
        for group in groups {
            for index in pieces {
                for i in 0..<operand.pieces[index].count {
                    var value = T.Accumulator.load(from: pieceAddress(operand, index, replica: group * size, i), as: T.self)
                    for member in 1..<size {
                        value = value.combined(with: .load(from: pieceAddress(operand, index, replica: group * size + member, i), as: T.self), plan.op)
                    }
                    if plan.op == .mean { value = value.divided(by: size) }
                    for member in 0..<size { value.store(to: pieceAddress(operand, index, replica: group * size + member, i), as: T.self) }
                }
            }
        }
    }

    private func reduceScatter<T: CollectiveScalar>(_ type: T.Type, pieces: Range<Int>) {
        let input = plan.operands[0], output = plan.operands[1], size = plan.groupSize
        for group in groups {
            for owner in 0..<size {
                for index in pieces {
                    for i in 0..<output.pieces[index].count {
                        let element = owner * output.elementCount + output.pieceStart[index] + i
                        var value = T.Accumulator.zero
                        if element < input.elementCount {
                            value = .load(from: address(input, replica: group * size, element: element), as: T.self)
                            for member in 1..<size {
                                value = value.combined(with: .load(from: address(input, replica: group * size + member, element: element), as: T.self), plan.op)
                            }
                            if plan.op == .mean { value = value.divided(by: size) }
                        }
                        value.store(to: pieceAddress(output, index, replica: group * size + owner, i), as: T.self)
                    }
                }
            }
        }
    }

    private func allGather<T: CollectiveScalar>(_ type: T.Type, pieces: Range<Int>) {
        let input = plan.operands[0], output = plan.operands[1], size = plan.groupSize
        for group in groups {
            for index in pieces {
                for i in 0..<output.pieces[index].count {
                    let element = output.pieceStart[index] + i
                    let source = address(input, replica: group * size + element / input.elementCount, element: element % input.elementCount)
                    for member in 0..<size {
                        pieceAddress(output, index, replica: group * size + member, i).copyMemory(from: source, byteCount: MemoryLayout<T>.size)
                    }
                }
            }
        }
    }
}

/// An element type a collective can combine, with the type it accumulates in.
protocol CollectiveScalar {
    associatedtype Accumulator: CollectiveAccumulator
}

/// A value collectives combine: float32 (also for float16, rounded once at the end) or a wrapping integer.
protocol CollectiveAccumulator {
    static var zero: Self { get }
    static func load<T>(from address: UnsafeRawPointer, as type: T.Type) -> Self
    func store<T>(to address: UnsafeMutableRawPointer, as type: T.Type)
    func combined(with other: Self, _ op: ReduceOperator) -> Self
    func divided(by count: Int) -> Self
}

extension Float: CollectiveScalar, CollectiveAccumulator {
    typealias Accumulator = Float
    static func load<T>(from address: UnsafeRawPointer, as type: T.Type) -> Float {
        type == Float16.self ? Float(address.loadUnaligned(as: Float16.self)) : address.loadUnaligned(as: Float.self)
    }
    func store<T>(to address: UnsafeMutableRawPointer, as type: T.Type) {
        if type == Float16.self { address.storeBytes(of: Float16(self), as: Float16.self) } else { address.storeBytes(of: self, as: Float.self) }
    }
    func combined(with other: Float, _ op: ReduceOperator) -> Float {
        switch op {
        case .sum, .mean: self + other
        case .max: Swift.max(self, other)
        case .min: Swift.min(self, other)
        }
    }
    func divided(by count: Int) -> Float { self / Float(count) }
}

extension Float16: CollectiveScalar { typealias Accumulator = Float }

extension FixedWidthInteger where Self: CollectiveAccumulator {
    static func load<T>(from address: UnsafeRawPointer, as type: T.Type) -> Self { address.loadUnaligned(as: Self.self) }
    func store<T>(to address: UnsafeMutableRawPointer, as type: T.Type) { address.storeBytes(of: self, as: Self.self) }
    func combined(with other: Self, _ op: ReduceOperator) -> Self {
        switch op {
        case .sum, .mean: self &+ other
        case .max: Swift.max(self, other)
        case .min: Swift.min(self, other)
        }
    }
    func divided(by count: Int) -> Self { self / Self(truncatingIfNeeded: count) }
}

extension Int32: CollectiveScalar, CollectiveAccumulator { typealias Accumulator = Int32 }
extension UInt32: CollectiveScalar, CollectiveAccumulator { typealias Accumulator = UInt32 }
extension UInt8: CollectiveScalar, CollectiveAccumulator { typealias Accumulator = UInt8 }
