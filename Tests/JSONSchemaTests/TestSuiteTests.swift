import Foundation
import JSONSchema
import Testing

/// The official JSON-Schema-Test-Suite: required cases must all pass; optional ones are reported.
@Suite struct TestSuiteTests {
    @Test func suiteIsPresent() {
        #expect(TestSuiteRunner.hasDraft("draft2020-12"), "missing \(TestSuiteRunner.suiteRoot.path)")
    }

    @Test(arguments: [("draft2020-12", SchemaDraft.draft2020_12), ("draft7", SchemaDraft.draft7)])
    func required(draft: String, dialect: SchemaDraft) {
        guard TestSuiteRunner.hasDraft(draft) else { return }
        let outcome = TestSuiteRunner.run(TestSuiteRunner.files(draft: draft), draft: dialect, formatAssertion: false)
        TestSuiteRunner.report("\(draft) required", outcome)
        #expect(outcome.failed == 0)
        #expect(outcome.passed > 0)
    }

    @Test(arguments: [("draft2020-12", SchemaDraft.draft2020_12), ("draft7", SchemaDraft.draft7)])
    func optional(draft: String, dialect: SchemaDraft) {
        guard TestSuiteRunner.hasDraft(draft) else { return }
        let outcome = TestSuiteRunner.run(TestSuiteRunner.files(draft: draft, subdirectory: "optional"), draft: dialect,
                                          formatAssertion: false)
        TestSuiteRunner.report("\(draft) optional", outcome)
    }

    @Test(arguments: [("draft2020-12", SchemaDraft.draft2020_12), ("draft7", SchemaDraft.draft7)])
    func optionalFormat(draft: String, dialect: SchemaDraft) {
        guard TestSuiteRunner.hasDraft(draft) else { return }
        let outcome = TestSuiteRunner.run(TestSuiteRunner.files(draft: draft, subdirectory: "optional/format"), draft: dialect,
                                          formatAssertion: true)
        TestSuiteRunner.report("\(draft) optional/format", outcome, showFailures: 60)
    }
}
