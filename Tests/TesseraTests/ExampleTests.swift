import Testing
import Tessera
import TesseraExamples
import TesseraTestSupport

@Test func matrixVectorExampleIsCorrectOnSmallTarget() throws {
    let outcome = try MatrixVectorExample.run(target: testTarget(tiles: 16, bytes: 65_536), rowsPerTile: 3, columns: 40, threads: 2)
    #expect(outcome.maxError < 1e-4)
    #expect(outcome.record.executions == [1, 1, 1])
}
