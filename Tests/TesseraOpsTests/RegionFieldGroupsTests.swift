import Testing
@testable import TesseraOps

/// How an element-wise vertex's regions share the fields of one operand.
@Suite struct RegionFieldGroupsTests {
    @Test func regionsShareRepeatedRangesAndExtendAdjacentOnes() {
        var groups = RegionFieldGroups()
        // A scale read by three planes, then the next scale, then a jump, then a repeat of the jump.
        for ranges in [[4..<5], [4..<5], [5..<6], [9..<10], [9..<10]] { groups.add(ranges[...]) }
        #expect(groups.count == 2)
        #expect(Array(groups.ranges(ofField: 0)) == [4..<5, 5..<6])
        #expect(Array(groups.ranges(ofField: 1)) == [9..<10])
        #expect(groups.regionField == [0, 0, 0, 1, 1])
        #expect(groups.regionOffset == [0, 0, 1, 0, 0])
    }

    @Test func regionsOfSeveralRangesJoinWhenTheNextStartsWhereTheFieldEnds() {
        var groups = RegionFieldGroups()
        groups.add([0..<3, 10..<12][...])
        groups.add([12..<20][...])
        groups.add([30..<31][...])
        #expect(groups.count == 2)
        #expect(Array(groups.ranges(ofField: 0)) == [0..<3, 10..<12, 12..<20])
        #expect(groups.regionOffset == [0, 5, 0])
        #expect(groups.regionField == [0, 0, 1])
    }
}
