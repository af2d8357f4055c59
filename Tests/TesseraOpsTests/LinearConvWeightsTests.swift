import Testing
import Tessera
import TesseraTestSupport

/// Weights created for a convolution's plan are gathered in few copies (their results are checked
/// with every case of ``LinearConvTests``).
@Suite struct LinearConvWeightsTests {
    /// A 3×3 convolution split over 64 tiles gathers its weights in fewer copies than from a linear
    /// mapping.
    @Test func createdWeightsNeedFewerCopiesThanALinearMapping() throws {
        let p = ConvParameters(batch: 4, inputChannels: 64, outputChannels: 64, inputField: [8, 8], kernel: [3, 3], padding: .symmetric(1))
        func convCopies(created: Bool) throws -> Int {
            let fixture = LinearFixture(tiles: 64, bytes: 262_144)
            let (input, _) = try fixture.input(p.inputShape, p.elementType, name: "x", seed: 1)
            let weights: Tensor
            if created {
                weights = try fixture.ops.createConvWeights(parameters: p, name: "w")
                _ = try fixture.written(weights, seed: 2)
            } else {
                weights = try fixture.input(p.weightsShape, p.elementType, name: "w", seed: 2).0
            }
            let y = try fixture.ops.conv2d(input, weights: weights, parameters: p, name: "conv")
            _ = try fixture.run(y)
            let executable = try #require(fixture.executable)
            let index = try #require(executable.steps.firstIndex { $0.name == "conv/conv" })
            return executable.supersteps[index].exchangeIn.items.count
        }
        let created = try convCopies(created: true), linear = try convCopies(created: false)
        #expect(created < linear, "created weights: \(created) copies, linear: \(linear)")
    }
}
