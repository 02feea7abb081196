import Foundation
import JSONSchema
import Testing

/// The official JSON-Schema-Test-Suite: required cases must all pass; optional ones are reported.
///
/// 2020-12 runs from the shared copy; draft-07 runs from the shared copy when it has `tests/draft7`, and from
/// the suite root named by `KAIPM_JSON_SCHEMA_SUITE` when that is set.
@Suite struct TestSuiteTests {
    @Test func suiteIsPresent() {
        #expect(TestSuiteRunner.hasDraft("draft2020-12"), "missing \(TestSuiteRunner.suiteRoot.path)")
    }

    @Test func namedSuiteHasDraft7() {
        let variable = TestSuiteRunner.suiteRootVariable
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return }
        #expect(TestSuiteRunner.hasDraft("draft7", root: URL(fileURLWithPath: path)), "\(variable)=\(path) has no tests/draft7")
    }

    @Test(arguments: TestSuiteRunner.targets)
    func required(_ target: TestSuiteRunner.Target) {
        guard TestSuiteRunner.hasDraft(target.draft, root: target.root) else { return }
        let outcome = TestSuiteRunner.run(target.files(), draft: target.dialect, formatAssertion: false, resolver: target.resolver)
        TestSuiteRunner.report("\(target.label) required", outcome, root: target.root)
        #expect(outcome.failed == 0)
        #expect(outcome.passed > 0)
    }

    @Test(arguments: TestSuiteRunner.targets)
    func optional(_ target: TestSuiteRunner.Target) {
        guard TestSuiteRunner.hasDraft(target.draft, root: target.root) else { return }
        let outcome = TestSuiteRunner.run(target.files(subdirectory: "optional"), draft: target.dialect, formatAssertion: false,
                                          resolver: target.resolver)
        TestSuiteRunner.report("\(target.label) optional", outcome, root: target.root)
    }

    @Test(arguments: TestSuiteRunner.targets)
    func optionalFormat(_ target: TestSuiteRunner.Target) {
        guard TestSuiteRunner.hasDraft(target.draft, root: target.root) else { return }
        let outcome = TestSuiteRunner.run(target.files(subdirectory: "optional/format"), draft: target.dialect,
                                          formatAssertion: true, resolver: target.resolver)
        TestSuiteRunner.report("\(target.label) optional/format", outcome, root: target.root, showFailures: 60)
    }
}
