import Testing
import Tessera
import TesseraTestSupport

/// Weights created for a convolution's plan: mapped where the plan reads them, in few chunks.
@Suite struct LinearConvWeightsTests {
    /// Every case of the convolution tests with created weights against the float64 reference.
    @Test(arguments: LinearConvCase.all)
    func createdWeightsGiveTheReferenceResult(_ test: LinearConvCase) throws {
        let p = test.parameters
        let fixture = LinearFixture(tiles: test.tiles)
        let (input, x) = try fixture.input(p.inputShape, p.elementType, name: "x", seed: 1)
        let weights = try fixture.ops.createConvWeights(parameters: p, name: "w")
        #expect(weights.shape == p.weightsShape && weights.elementType == p.elementType)
        let mapped = try fixture.graph.tileMapping(of: weights).reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
        #expect(mapped == weights.elementCount)
        let w = try fixture.written(weights, seed: 2)
        let (bias, b) = p.hasBias ? try fixture.input([p.outputChannels], p.elementType, name: "b", seed: 3) : (nil, nil)
        let y = try fixture.ops.conv2d(input, weights: weights, bias: bias, parameters: p, name: "conv")
        let result = try fixture.run(y)
        #expect(linearWorstError(result, linearReferenceConv(p, input: x, weights: w, bias: b), type: p.elementType) <= 1)
    }

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
